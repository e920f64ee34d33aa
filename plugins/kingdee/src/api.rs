//! Posting a journal over the K/3 Cloud WebAPI, through an injected transport:
//! ValidateUser (session cookie) → ExecuteBillQuery by the reference (a voucher already
//! there is answered as is) → Save. A lost session is re-established once per request;
//! a Save refused with business errors is checked once more against the query (a
//! duplicate the ERP itself detected is the voucher we want), else `invalid-input` with
//! Kingdee's messages.

use serde::Deserialize;
use wharf_sdk::accounting::{Journal, Voucher};
use wharf_sdk::http::{Request, Response, Transport};
use wharf_sdk::types::ConnectorError;

use crate::settings::Settings;
use crate::voucher::{self, Outcome};

/// The login's secrets.
#[derive(Clone)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

/// The password never appears in debug output.
impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// The session cookie K/3 Cloud issues at login.
pub const SESSION_COOKIE: &str = "kdservice-sessionid";

#[derive(Deserialize)]
struct LoginAnswer {
    #[serde(rename = "LoginResultType", default)]
    result_type: i64,
    #[serde(rename = "Message", default)]
    message: Option<String>,
    #[serde(rename = "KDSVCSessionId", default)]
    session_id: Option<String>,
}

/// The `kdservice-sessionid` value of a `Set-Cookie` header, if it sets it.
fn cookie_value(set_cookie: &str) -> Option<String> {
    let first = set_cookie.split(';').next()?.trim();
    let (name, value) = first.split_once('=')?;
    (name.trim().eq_ignore_ascii_case(SESSION_COOKIE) && !value.is_empty())
        .then(|| value.trim().to_string())
}

/// Log in (ValidateUser): the session id, or `unauthorized` with Kingdee's message.
pub fn login(
    settings: &Settings,
    creds: &Credentials,
    send: Transport<'_>,
) -> Result<String, ConnectorError> {
    let body = serde_json::json!({
        "acctID": settings.acct_id,
        "username": creds.username,
        "password": creds.password,
        "lcid": settings.lcid,
    });
    let resp = send(
        Request::post(
            settings.service(voucher::LOGIN),
            body.to_string().into_bytes(),
        )
        .header("content-type", "application/json"),
    )?
    .error_for_status()?;
    let answer: LoginAnswer = resp.json()?;
    if answer.result_type != 1 {
        return Err(ConnectorError::Unauthorized(format!(
            "Kingdee login refused (LoginResultType {}): {}",
            answer.result_type,
            answer.message.unwrap_or_default()
        )));
    }
    let from_cookie = resp
        .headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
        .find_map(|(_, v)| cookie_value(v));
    answer
        .session_id
        .filter(|s| !s.is_empty())
        .or(from_cookie)
        .ok_or_else(|| ConnectorError::Unauthorized("Kingdee login answered no session".into()))
}

/// A logged-in session that logs in again once when the ERP says it is gone.
struct Session<'a, 'b> {
    settings: &'a Settings,
    creds: &'a Credentials,
    send: Transport<'b>,
    id: String,
}

impl Session<'_, '_> {
    fn post(&mut self, service: &str, body: &[u8]) -> Result<Response, ConnectorError> {
        let req = Request::post(self.settings.service(service), body.to_vec())
            .header("content-type", "application/json")
            .header("cookie", &format!("{SESSION_COOKIE}={}", self.id));
        (self.send)(req)?.error_for_status()
    }

    /// Send and parse; on a lost session log in again and retry once.
    fn call<T>(
        &mut self,
        service: &str,
        body: &[u8],
        parse: fn(&[u8]) -> Result<Outcome<T>, ConnectorError>,
    ) -> Result<Outcome<T>, ConnectorError> {
        let first = parse(&self.post(service, body)?.body)?;
        if !matches!(first, Outcome::SessionLost) {
            return Ok(first);
        }
        self.id = login(self.settings, self.creds, self.send)?;
        match parse(&self.post(service, body)?.body)? {
            Outcome::SessionLost => Err(ConnectorError::Unauthorized(
                "Kingdee session lost again right after logging in".into(),
            )),
            other => Ok(other),
        }
    }

    fn find(&mut self, reference: &str) -> Result<Option<Voucher>, ConnectorError> {
        let body = voucher::query_body(reference, self.settings);
        match self.call(voucher::QUERY, &body, voucher::parse_query)? {
            Outcome::Ok(found) => Ok(found),
            Outcome::Refused(errors) => Err(ConnectorError::InvalidInput(format!(
                "Kingdee refused the voucher query: {}",
                voucher::describe(&errors)
            ))),
            Outcome::SessionLost => unreachable!("call() resolves lost sessions"),
        }
    }
}

/// Post `journal` as one voucher; a voucher already carrying its reference is answered
/// instead of posting a second one.
pub fn post_journal(
    settings: &Settings,
    creds: &Credentials,
    journal: &Journal,
    send: Transport<'_>,
) -> Result<Voucher, ConnectorError> {
    voucher::check(journal, settings)?;
    let body = voucher::save_body(journal, settings)?;
    let id = login(settings, creds, send)?;
    let mut session = Session {
        settings,
        creds,
        send,
        id,
    };
    if let Some(existing) = session.find(&journal.reference)? {
        return Ok(existing);
    }
    match session.call(voucher::SAVE, &body, voucher::parse_save)? {
        Outcome::Ok(v) => Ok(v),
        Outcome::Refused(errors) => match session.find(&journal.reference)? {
            Some(existing) => Ok(existing),
            None => Err(ConnectorError::InvalidInput(format!(
                "Kingdee refused the voucher: {}",
                voucher::describe(&errors)
            ))),
        },
        Outcome::SessionLost => unreachable!("call() resolves lost sessions"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The password is redacted from debug output.
    #[test]
    fn credentials_debug_hides_the_password() {
        let c = Credentials {
            username: "u".into(),
            password: "hunter2".into(),
        };
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    // Only the session cookie's own value is taken from Set-Cookie headers.
    #[test]
    fn reads_the_session_cookie() {
        assert_eq!(
            cookie_value("kdservice-sessionid=abc-123; path=/; HttpOnly"),
            Some("abc-123".into())
        );
        assert_eq!(cookie_value("ASP.NET_SessionId=zzz; path=/"), None);
        assert_eq!(cookie_value("kdservice-sessionid=; path=/"), None);
    }
}
