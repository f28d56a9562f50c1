//! Bearer-token checks as a tonic interceptor, one per API. The decision is `crate::auth`'s;
//! this only reads the metadata and turns a refusal into UNAUTHENTICATED or PERMISSION_DENIED.

use std::sync::Arc;

use tonic::{Request, Status};

use crate::auth::{Api, Denied, Tokens};

/// The interceptor guarding `api`.
pub fn authorizer(
    tokens: Arc<Tokens>,
    api: Api,
) -> impl FnMut(Request<()>) -> Result<Request<()>, Status> + Clone {
    move |request: Request<()>| {
        let header = request
            .metadata()
            .get("authorization")
            .map(|v| v.to_str().unwrap_or(""));
        match tokens.authorize(header, api) {
            Ok(caller) => {
                if let Some(caller) = caller {
                    tracing::debug!(%caller, ?api, "authorized");
                }
                Ok(request)
            }
            Err(Denied::Unauthenticated(why)) => Err(Status::unauthenticated(why)),
            Err(Denied::Forbidden { caller, role }) => Err(Status::permission_denied(format!(
                "token {caller:?} has role {role:?}, which may not call the {api:?} API"
            ))),
        }
    }
}
