//! Authentication as extractors: a bearer token scoped either to one merchant or to the
//! operator (who manages the plugin registry). [`Actor`] names the caller for audit
//! trails.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use wharf_store::TokenScope;

use crate::{ApiError, AppState};

/// Any authenticated caller.
#[derive(Debug, Clone, Copy)]
pub enum Principal {
    Operator,
    Merchant(i64),
}

/// A caller acting for one merchant; handlers scope every query by this id.
#[derive(Debug, Clone, Copy)]
pub struct Merchant(pub i64);

/// The operator.
#[derive(Debug, Clone, Copy)]
pub struct Operator;

/// Who acted, for audit trails: `api:<token label>`. Use beside [`Merchant`], which does
/// the authorisation.
#[derive(Debug, Clone)]
pub struct Actor(pub String);

fn bearer(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

impl FromRequestParts<AppState> for Actor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(parts).ok_or_else(|| {
            ApiError::Unauthenticated("missing Authorization: Bearer <token>".into())
        })?;
        let label = state
            .store()
            .token_label(token)
            .await?
            .ok_or_else(|| ApiError::Unauthenticated("invalid token".into()))?;
        Ok(Actor(format!("api:{label}")))
    }
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or_else(|| {
                ApiError::Unauthenticated("missing Authorization: Bearer <token>".into())
            })?;
        let token = header
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or_else(|| {
                ApiError::Unauthenticated("Authorization must be `Bearer <token>`".into())
            })?;
        match state.store().authenticate(token).await? {
            Some(TokenScope::Operator) => Ok(Principal::Operator),
            Some(TokenScope::Merchant(id)) => Ok(Principal::Merchant(id)),
            None => Err(ApiError::Unauthenticated("invalid token".into())),
        }
    }
}

impl FromRequestParts<AppState> for Merchant {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match Principal::from_request_parts(parts, state).await? {
            Principal::Merchant(id) => Ok(Merchant(id)),
            Principal::Operator => Err(ApiError::Forbidden(
                "this call needs a merchant token".into(),
            )),
        }
    }
}

impl FromRequestParts<AppState> for Operator {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match Principal::from_request_parts(parts, state).await? {
            Principal::Operator => Ok(Operator),
            Principal::Merchant(_) => Err(ApiError::Forbidden(
                "this call needs the operator token".into(),
            )),
        }
    }
}
