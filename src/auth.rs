//! Who may call what. Blog backends, operators and moderators hold bearer tokens from the
//! config, each with a [`Role`]; the gRPC layer asks [`Tokens::authorize`] before every call.

use anyhow::bail;
use serde::Deserialize;

/// The kind of caller a token belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A blog platform: checks comments and reports feedback.
    Backend,
    /// A person working through the review queue.
    Operator,
    /// Tunes and retrains the service; may call everything.
    Moderator,
}

/// The two APIs, which different roles may call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    Moderation,
    Review,
}

impl Role {
    pub fn may_call(self, api: Api) -> bool {
        matches!(
            (self, api),
            (Role::Moderator, _) | (Role::Backend, Api::Moderation) | (Role::Operator, Api::Review)
        )
    }
}

/// Why a call was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denied {
    /// No token, a malformed header, or a token nobody was given.
    Unauthenticated(&'static str),
    /// A valid token whose role may not call this API.
    Forbidden { caller: String, role: Role },
}

/// Long enough that guessing is hopeless; operators generate these, they don't type them.
const MIN_TOKEN_LEN: usize = 16;

/// The configured tokens. Compared in constant time, so response timing does not leak how
/// much of a guessed token was right.
#[derive(Debug, Default)]
pub struct Tokens {
    entries: Vec<(String, String, Role)>,
}

impl Tokens {
    /// Builds the token table from `(name, token, role)`, refusing short or repeated tokens.
    pub fn new(entries: impl IntoIterator<Item = (String, String, Role)>) -> anyhow::Result<Self> {
        let entries: Vec<_> = entries.into_iter().collect();
        for (i, (name, token, _)) in entries.iter().enumerate() {
            // A header value carries visible ASCII and spaces, and `authorize` trims what it
            // receives: any other token could never be presented, and would lock its holder
            // out.
            if token.trim() != token || !token.bytes().all(|b| b == b' ' || b.is_ascii_graphic()) {
                bail!(
                    "auth token {name:?} may hold only visible ASCII characters and inner \
                     spaces (no control or non-ASCII characters, no spaces at its ends), since \
                     it travels in a gRPC header"
                );
            }
            if token.len() < MIN_TOKEN_LEN {
                bail!("auth token {name:?} is shorter than {MIN_TOKEN_LEN} characters");
            }
            if entries[..i].iter().any(|(_, t, _)| t == token) {
                bail!("auth token {name:?} repeats an earlier token");
            }
        }
        Ok(Tokens { entries })
    }

    /// With no tokens configured the server runs open (on loopback only; see `Config`).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Checks an `authorization` header value for `api`. Returns the caller's name.
    pub fn authorize(&self, header: Option<&str>, api: Api) -> Result<Option<String>, Denied> {
        if self.is_empty() {
            return Ok(None);
        }
        let header = header.ok_or(Denied::Unauthenticated(
            "missing authorization metadata; send \"authorization: Bearer <token>\"",
        ))?;
        // The scheme's name is case-insensitive (RFC 7235).
        let token = header
            .split_once(' ')
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .ok_or(Denied::Unauthenticated(
                "authorization metadata must be \"Bearer <token>\"",
            ))?
            .1
            .trim();
        let (name, _, role) = self
            .entries
            .iter()
            .find(|(_, t, _)| constant_time_eq::constant_time_eq(t.as_bytes(), token.as_bytes()))
            .ok_or(Denied::Unauthenticated("unknown bearer token"))?;
        if role.may_call(api) {
            Ok(Some(name.clone()))
        } else {
            Err(Denied::Forbidden {
                caller: name.clone(),
                role: *role,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> Tokens {
        Tokens::new([
            (
                "blog".into(),
                "backend-token-0123456789".into(),
                Role::Backend,
            ),
            (
                "ops".into(),
                "operator-token-0123456789".into(),
                Role::Operator,
            ),
            (
                "mod".into(),
                "moderator-token-0123456789".into(),
                Role::Moderator,
            ),
        ])
        .unwrap()
    }

    #[test]
    fn roles_reach_their_apis_only() {
        let t = tokens();
        let call = |token: &str, api| t.authorize(Some(&format!("Bearer {token}")), api);
        assert!(call("backend-token-0123456789", Api::Moderation).is_ok());
        assert!(matches!(
            call("backend-token-0123456789", Api::Review),
            Err(Denied::Forbidden { .. })
        ));
        assert!(call("operator-token-0123456789", Api::Review).is_ok());
        assert!(call("operator-token-0123456789", Api::Moderation).is_err());
        assert!(call("moderator-token-0123456789", Api::Moderation).is_ok());
        assert!(call("moderator-token-0123456789", Api::Review).is_ok());
        assert!(matches!(
            call("nope-nope-nope-nope", Api::Review),
            Err(Denied::Unauthenticated(_))
        ));
        assert!(matches!(
            t.authorize(None, Api::Review),
            Err(Denied::Unauthenticated(_))
        ));
        assert!(matches!(
            t.authorize(Some("Basic abc"), Api::Review),
            Err(Denied::Unauthenticated(_))
        ));
        // The scheme in any case; surrounding blanks trimmed.
        for header in [
            "BEARER moderator-token-0123456789",
            "bearer moderator-token-0123456789 ",
        ] {
            assert!(t.authorize(Some(header), Api::Review).is_ok(), "{header}");
        }
        assert!(matches!(
            t.authorize(Some("Bearermoderator-token-0123456789"), Api::Review),
            Err(Denied::Unauthenticated(_))
        ));
    }

    #[test]
    fn open_when_no_tokens_and_refuses_weak_ones() {
        assert_eq!(Tokens::default().authorize(None, Api::Review), Ok(None));
        assert!(Tokens::new([("a".into(), "short".into(), Role::Backend)]).is_err());
        // Tokens no client could present: a trailing space (trimmed off the header), only
        // spaces, a control character, non-ASCII letters (nine of them are 18 bytes).
        for token in [
            "abcdefghijklmnopqrst ",
            " abcdefghijklmnopqrst",
            "                    ",
            "abcdefghij\u{1}klmnopqrst",
            "ééééééééé",
        ] {
            let err = Tokens::new([("a".into(), token.into(), Role::Backend)]).unwrap_err();
            assert!(
                err.to_string().contains("visible ASCII"),
                "{token:?}: {err}"
            );
        }
        let spaced = "correct horse battery staple";
        let t = Tokens::new([("a".into(), spaced.into(), Role::Backend)]).unwrap();
        let header = format!("Bearer {spaced}");
        assert!(t.authorize(Some(&header), Api::Moderation).is_ok());
    }
}
