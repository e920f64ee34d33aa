//! The host-owned fulfillment state machine of an order, the warehouse-task life cycle,
//! and the SLA steps. Pure rules: the store applies them inside its transactions.
//!
//! Every allowed order transition is ONE row of [`TRANSITIONS`]; [`check`] refuses anything
//! else with a reason a merchant can read. Warehouse tasks (pick, pack) have their own,
//! smaller table ([`TASK_ACTIONS`]).

use serde::{Deserialize, Serialize};

/// Where an order is in Wharf's own handling (not the channel's status).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Stored; not yet paid or not yet cleared for fulfilment.
    Received,
    /// Paid and cleared (no review pending, stock held where inventory is tracked).
    Ready,
    /// Held for review (oversold, or a merchant's hold).
    OnHold,
    /// Stock allocated and a pick task created.
    Allocated,
    /// A picker started the pick task.
    Picking,
    /// Packed: the pack task was completed with a parcel record.
    Packed,
    /// A label (carrier + tracking number) was made.
    Labelled,
    /// Handed to the carrier; held stock was consumed.
    Shipped,
    Delivered,
    /// Delivery refused or the parcel is coming back in transit.
    Exception,
    Cancelled,
    Returned,
}

impl State {
    pub const ALL: [State; 12] = [
        Self::Received,
        Self::Ready,
        Self::OnHold,
        Self::Allocated,
        Self::Picking,
        Self::Packed,
        Self::Labelled,
        Self::Shipped,
        Self::Delivered,
        Self::Exception,
        Self::Cancelled,
        Self::Returned,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Received => "received",
            Self::Ready => "ready",
            Self::OnHold => "on_hold",
            Self::Allocated => "allocated",
            Self::Picking => "picking",
            Self::Packed => "packed",
            Self::Labelled => "labelled",
            Self::Shipped => "shipped",
            Self::Delivered => "delivered",
            Self::Exception => "exception",
            Self::Cancelled => "cancelled",
            Self::Returned => "returned",
        }
    }

    pub fn parse(s: &str) -> Result<State, String> {
        Self::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|s| s.as_str()).collect();
                format!("unknown state {s:?}; one of {}", names.join(", "))
            })
    }

    /// Not yet handed to a carrier: the order can still be cancelled.
    pub fn before_shipped(self) -> bool {
        matches!(
            self,
            Self::Received
                | Self::Ready
                | Self::OnHold
                | Self::Allocated
                | Self::Picking
                | Self::Packed
                | Self::Labelled
        )
    }

    /// No transition leaves this state.
    pub fn is_final(self) -> bool {
        TRANSITIONS.iter().all(|(from, _, _)| *from != self)
    }
}

impl std::fmt::Display for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

use State::*;

/// THE table of allowed transitions: (from, to, what the step means). `cancelled` is
/// reachable from every state before `shipped`. `on_hold → received` releases a hold that
/// inventory put on an order that was not yet ready (the oversold order got its stock);
/// holds of ready orders go back to `ready`.
pub const TRANSITIONS: &[(State, State, &str)] = &[
    (Received, Ready, "paid and cleared for fulfilment"),
    (Received, OnHold, "held for review"),
    (Ready, OnHold, "held for review"),
    (OnHold, Ready, "review approved"),
    (
        OnHold,
        Received,
        "inventory hold released before the order was ready",
    ),
    (Ready, Allocated, "stock allocated, pick task created"),
    (Allocated, Picking, "pick started"),
    (Picking, Packed, "parcel packed"),
    (Packed, Labelled, "label made"),
    (Labelled, Packed, "waybill cancelled"),
    (Labelled, Shipped, "handed to the carrier"),
    (Shipped, Delivered, "delivered"),
    (
        Shipped,
        Exception,
        "delivery refused or returning in transit",
    ),
    (Delivered, Returned, "returned by the buyer"),
    (Exception, Returned, "returned to the warehouse"),
    (Received, Cancelled, "cancelled"),
    (Ready, Cancelled, "cancelled"),
    (OnHold, Cancelled, "cancelled"),
    (Allocated, Cancelled, "cancelled"),
    (Picking, Cancelled, "cancelled"),
    (Packed, Cancelled, "cancelled"),
    (Labelled, Cancelled, "cancelled"),
];

/// Is `from → to` allowed? `Err` carries the reason it is not.
pub fn check(from: State, to: State) -> Result<(), String> {
    if TRANSITIONS.iter().any(|(f, t, _)| *f == from && *t == to) {
        return Ok(());
    }
    if from == to {
        return Err(format!("the order is already {to}"));
    }
    if to == Cancelled {
        return Err(format!(
            "an order that is {from} can no longer be cancelled: it was handed to the carrier"
        ));
    }
    if from.is_final() {
        return Err(format!("{from} is final: no transition leaves it"));
    }
    let next: Vec<&str> = TRANSITIONS
        .iter()
        .filter(|(f, _, _)| *f == from)
        .map(|(_, t, _)| t.as_str())
        .collect();
    Err(format!(
        "an order that is {from} cannot become {to}; allowed next: {}",
        next.join(", ")
    ))
}

/// A warehouse task kind: one pick and one pack task per order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    Pick,
    Pack,
}

impl TaskKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pick => "pick",
            Self::Pack => "pack",
        }
    }

    pub fn parse(s: &str) -> Result<TaskKind, String> {
        match s {
            "pick" => Ok(Self::Pick),
            "pack" => Ok(Self::Pack),
            other => Err(format!("unknown task kind {other:?}; pick or pack")),
        }
    }
}

/// Status of a warehouse task. `cancelled` ends the open tasks of a cancelled order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    Open,
    Assigned,
    InProgress,
    Done,
    Exception,
    Cancelled,
}

impl TaskStatus {
    pub const ALL: [TaskStatus; 6] = [
        Self::Open,
        Self::Assigned,
        Self::InProgress,
        Self::Done,
        Self::Exception,
        Self::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Assigned => "assigned",
            Self::InProgress => "in_progress",
            Self::Done => "done",
            Self::Exception => "exception",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Result<TaskStatus, String> {
        Self::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| {
                format!("unknown task status {s:?}; open, assigned, in_progress, done, exception or cancelled")
            })
    }
}

/// What a warehouse worker (or the host) does to a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskAction {
    Assign,
    Start,
    Complete,
    ReportException,
    Cancel,
}

impl TaskAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Assign => "assign",
            Self::Start => "start",
            Self::Complete => "complete",
            Self::ReportException => "report an exception on",
            Self::Cancel => "cancel",
        }
    }
}

/// The task table: (action, from statuses, resulting status). An exception can be cleared
/// by assigning the task again.
pub const TASK_ACTIONS: &[(TaskAction, &[TaskStatus], TaskStatus)] = &[
    (
        TaskAction::Assign,
        &[
            TaskStatus::Open,
            TaskStatus::Assigned,
            TaskStatus::Exception,
        ],
        TaskStatus::Assigned,
    ),
    (
        TaskAction::Start,
        &[TaskStatus::Assigned],
        TaskStatus::InProgress,
    ),
    (
        TaskAction::Complete,
        &[TaskStatus::InProgress],
        TaskStatus::Done,
    ),
    (
        TaskAction::ReportException,
        &[
            TaskStatus::Open,
            TaskStatus::Assigned,
            TaskStatus::InProgress,
        ],
        TaskStatus::Exception,
    ),
    (
        TaskAction::Cancel,
        &[
            TaskStatus::Open,
            TaskStatus::Assigned,
            TaskStatus::InProgress,
            TaskStatus::Exception,
        ],
        TaskStatus::Cancelled,
    ),
];

/// The status `action` moves a task in `from` to, or why it cannot.
pub fn task_action(from: TaskStatus, action: TaskAction) -> Result<TaskStatus, String> {
    for (a, froms, to) in TASK_ACTIONS {
        if *a == action {
            if froms.contains(&from) {
                return Ok(*to);
            }
            let allowed: Vec<&str> = froms.iter().map(|s| s.as_str()).collect();
            return Err(format!(
                "cannot {} a task that is {}; only one that is {}",
                action.as_str(),
                from.as_str(),
                allowed.join(" or ")
            ));
        }
    }
    Err(format!("unknown task action {}", action.as_str()))
}

/// The parcel a pack task produced: integers only (grams, millimetres).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PackRecord {
    pub weight_g: i64,
    pub length_mm: i64,
    pub width_mm: i64,
    pub height_mm: i64,
}

/// Upper bounds that catch unit mistakes (kg typed as g is fine, tonnes are not).
const MAX_WEIGHT_G: i64 = 1_000_000;
const MAX_SIDE_MM: i64 = 10_000;

impl PackRecord {
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=MAX_WEIGHT_G).contains(&self.weight_g) {
            return Err(format!(
                "weight_g must be between 1 and {MAX_WEIGHT_G}, got {}",
                self.weight_g
            ));
        }
        for (name, v) in [
            ("length_mm", self.length_mm),
            ("width_mm", self.width_mm),
            ("height_mm", self.height_mm),
        ] {
            if !(1..=MAX_SIDE_MM).contains(&v) {
                return Err(format!(
                    "{name} must be between 1 and {MAX_SIDE_MM}, got {v}"
                ));
            }
        }
        Ok(())
    }
}

/// A step with a time limit (per merchant, see the SLA rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SlaStep {
    /// A pick task must be done within the limit of its start.
    Pick,
    /// A pack task must be done within the limit of its start.
    Pack,
    /// An order must be shipped within the limit of its payment (as Wharf saw it).
    Ship,
}

impl SlaStep {
    pub const ALL: [SlaStep; 3] = [Self::Pick, Self::Pack, Self::Ship];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pick => "pick",
            Self::Pack => "pack",
            Self::Ship => "ship",
        }
    }

    pub fn parse(s: &str) -> Result<SlaStep, String> {
        Self::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| format!("unknown SLA step {s:?}; pick, pack or ship"))
    }

    /// The task kind whose clock this step measures, if any.
    pub fn task_kind(self) -> Option<TaskKind> {
        match self {
            Self::Pick => Some(TaskKind::Pick),
            Self::Pack => Some(TaskKind::Pack),
            Self::Ship => None,
        }
    }
}

/// Longest SLA limit accepted: 30 days.
pub const MAX_SLA_SECS: i64 = 30 * 24 * 3600;

/// Check an SLA limit (seconds).
pub fn validate_sla_limit(secs: i64) -> Result<(), String> {
    if (1..=MAX_SLA_SECS).contains(&secs) {
        Ok(())
    } else {
        Err(format!(
            "limit_secs must be between 1 and {MAX_SLA_SECS}, got {secs}"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Every row of the table is allowed.
    #[test]
    fn every_table_row_is_allowed() {
        for (from, to, _) in TRANSITIONS {
            assert_eq!(check(*from, *to), Ok(()), "{from} -> {to}");
        }
    }

    // The table has exactly the rows of the design: 13 forward steps + 7 cancellations
    // + inventory's hold release + a cancelled waybill's way back to packed.
    #[test]
    fn table_is_the_designed_one() {
        let expected = [
            (Received, Ready),
            (Received, OnHold),
            (Ready, OnHold),
            (OnHold, Ready),
            (OnHold, Received),
            (Ready, Allocated),
            (Allocated, Picking),
            (Picking, Packed),
            (Packed, Labelled),
            (Labelled, Packed),
            (Labelled, Shipped),
            (Shipped, Delivered),
            (Shipped, Exception),
            (Delivered, Returned),
            (Exception, Returned),
        ];
        for (f, t) in expected {
            assert!(check(f, t).is_ok(), "{f} -> {t}");
        }
        for s in State::ALL {
            assert_eq!(
                check(s, Cancelled).is_ok(),
                s.before_shipped(),
                "{s} -> cancelled"
            );
        }
        assert_eq!(TRANSITIONS.len(), expected.len() + 7);
    }

    // A sample of illegal transitions is refused, each with a reason naming the states.
    #[test]
    fn illegal_transitions_are_refused_with_a_reason() {
        for (from, to) in [
            (Received, Allocated),
            (Received, Shipped),
            (Ready, Picking),
            (Allocated, Packed),
            (Picking, Labelled),
            (Packed, Shipped),
            (Labelled, Delivered),
            (Shipped, Received),
            (Delivered, Exception),
            (OnHold, Allocated),
        ] {
            let reason = check(from, to).unwrap_err();
            assert!(
                reason.contains(from.as_str()) && reason.contains(to.as_str()),
                "{from} -> {to}: {reason}"
            );
        }
    }

    // Cancelling after shipping, leaving a final state and staying put say why.
    #[test]
    fn special_refusals_explain_themselves() {
        assert!(check(Shipped, Cancelled).unwrap_err().contains("carrier"));
        assert!(check(Delivered, Cancelled).unwrap_err().contains("carrier"));
        assert!(check(Cancelled, Ready).unwrap_err().contains("final"));
        assert!(check(Returned, Shipped).unwrap_err().contains("final"));
        assert!(check(Ready, Ready).unwrap_err().contains("already"));
    }

    // Only cancelled and returned are final.
    #[test]
    fn finals() {
        let finals: Vec<State> = State::ALL.into_iter().filter(|s| s.is_final()).collect();
        assert_eq!(finals, vec![Cancelled, Returned]);
    }

    // State names round-trip through their string form.
    #[test]
    fn names_round_trip() {
        for s in State::ALL {
            assert_eq!(State::parse(s.as_str()), Ok(s));
        }
        assert!(State::parse("teleported").is_err());
        for s in TaskStatus::ALL {
            assert_eq!(TaskStatus::parse(s.as_str()), Ok(s));
        }
        for s in SlaStep::ALL {
            assert_eq!(SlaStep::parse(s.as_str()), Ok(s));
        }
    }

    // The task table: assign → start → complete; exceptions from any live status, cleared
    // by re-assigning; done tasks take no action but none.
    #[test]
    fn task_life_cycle() {
        use TaskAction::*;
        use TaskStatus as S;
        assert_eq!(task_action(S::Open, Assign), Ok(S::Assigned));
        assert_eq!(task_action(S::Assigned, Assign), Ok(S::Assigned));
        assert_eq!(task_action(S::Assigned, Start), Ok(S::InProgress));
        assert_eq!(task_action(S::InProgress, Complete), Ok(S::Done));
        assert_eq!(
            task_action(S::InProgress, ReportException),
            Ok(S::Exception)
        );
        assert_eq!(task_action(S::Exception, Assign), Ok(S::Assigned));
        assert_eq!(task_action(S::Open, Cancel), Ok(S::Cancelled));
        assert!(task_action(S::Open, Start)
            .unwrap_err()
            .contains("assigned"));
        assert!(task_action(S::Assigned, Complete).is_err());
        assert!(task_action(S::Done, Assign).is_err());
        assert!(task_action(S::Done, Cancel).is_err());
        assert!(task_action(S::Cancelled, Start).is_err());
    }

    // Parcel records must be positive integers within sane bounds.
    #[test]
    fn pack_record_bounds() {
        let ok = PackRecord {
            weight_g: 450,
            length_mm: 300,
            width_mm: 200,
            height_mm: 100,
        };
        assert!(ok.validate().is_ok());
        assert!(PackRecord { weight_g: 0, ..ok }.validate().is_err());
        assert!(PackRecord {
            height_mm: -1,
            ..ok
        }
        .validate()
        .is_err());
        assert!(PackRecord {
            length_mm: 20_000,
            ..ok
        }
        .validate()
        .is_err());
    }

    // SLA limits are 1 s .. 30 days.
    #[test]
    fn sla_limits() {
        assert!(validate_sla_limit(1).is_ok());
        assert!(validate_sla_limit(0).is_err());
        assert!(validate_sla_limit(MAX_SLA_SECS + 1).is_err());
        assert_eq!(SlaStep::Pick.task_kind(), Some(TaskKind::Pick));
        assert_eq!(SlaStep::Ship.task_kind(), None);
    }
}
