//! The configuration file, in two stages (as ripgrep does with its flags): [`RawConfig`] is
//! the TOML exactly as written, checked only for shape; [`Config`] is the validated result,
//! with every site's policy compiled. Nothing reaches the running service that failed
//! validation, so the request path never has to handle a bad setting.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use serde::Deserialize;

use crate::auth::{Role, Tokens};
use crate::classifier::calibration::Thresholds;
use crate::comment::validate_id;
use crate::rules::Policy;

/// The TOML file as written. Every section is optional; defaults are those of a small blog.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    #[serde(default)]
    pub server: RawServer,
    /// Moderation settings for every site.
    #[serde(default)]
    pub policy: toml::Table,
    /// Per-site overrides, keyed by `site_id`: any key of `[policy]`, replacing the default.
    #[serde(default)]
    pub sites: BTreeMap<String, toml::Table>,
    #[serde(default)]
    pub auth: RawAuth,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawServer {
    pub listen: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
    pub model: Option<PathBuf>,
    /// The largest comment content accepted, in bytes (default 64 KiB).
    pub max_content_bytes: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAuth {
    #[serde(default)]
    pub tokens: Vec<RawToken>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawToken {
    /// Who holds the token; shown in logs, never the token itself.
    pub name: String,
    pub token: String,
    pub role: Role,
}

/// The validated configuration the server runs with.
#[derive(Debug)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub model: PathBuf,
    pub max_content_bytes: usize,
    pub default_policy: Policy,
    pub site_policies: BTreeMap<String, Policy>,
    pub tokens: Arc<Tokens>,
}

pub const DEFAULT_LISTEN: &str = "127.0.0.1:50051";
pub const DEFAULT_DATA_DIR: &str = "./data";
pub const DEFAULT_MODEL: &str = "models/default.cgm";
pub const DEFAULT_MAX_CONTENT_BYTES: usize = 64 * 1024;
/// The largest `server.max_content_bytes`; see `RawConfig::validate`.
pub const MAX_CONTENT_BYTES_LIMIT: usize = 3 * 1024 * 1024;

impl RawConfig {
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading config file {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("in config file {}", path.display()))
    }

    pub fn parse(text: &str) -> anyhow::Result<Self> {
        Ok(toml::from_str(text)?)
    }

    /// Validates everything and compiles each site's policy.
    pub fn validate(self) -> anyhow::Result<Config> {
        let max_content_bytes = self
            .server
            .max_content_bytes
            .unwrap_or(DEFAULT_MAX_CONTENT_BYTES);
        if max_content_bytes == 0 {
            bail!("server.max_content_bytes must be positive");
        }
        // A held comment is one item of a ListHeld page, and a page always carries at least
        // one: a comment too big for the 4 MiB that stock gRPC clients accept would block
        // the queue behind it.
        if max_content_bytes > MAX_CONTENT_BYTES_LIMIT {
            bail!(
                "server.max_content_bytes must be at most {MAX_CONTENT_BYTES_LIMIT} (3 MiB), not \
                 {max_content_bytes}: a held comment must fit in a review-queue page, and stock \
                 gRPC clients refuse responses over 4 MiB"
            );
        }
        if self
            .server
            .data_dir
            .as_ref()
            .is_some_and(|dir| dir.as_os_str().is_empty())
        {
            bail!("server.data_dir must not be empty (sled would write into the current folder)");
        }
        let default_policy = Policy::from_table(&self.policy).context("in [policy]")?;
        let mut site_policies = BTreeMap::new();
        for (site, overrides) in &self.sites {
            validate_id("site id", site).with_context(|| {
                format!("[sites.{site:?}] names no site a comment can come from")
            })?;
            let mut merged = self.policy.clone();
            merged.extend(overrides.clone());
            let policy =
                Policy::from_table(&merged).with_context(|| format!("in [sites.{site:?}]"))?;
            site_policies.insert(site.clone(), policy);
        }
        let tokens = Arc::new(Tokens::new(
            self.auth
                .tokens
                .into_iter()
                .map(|t| (t.name, t.token, t.role)),
        )?);
        Ok(Config {
            listen: self
                .server
                .listen
                .unwrap_or_else(|| DEFAULT_LISTEN.parse().expect("valid default address")),
            data_dir: self
                .server
                .data_dir
                .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR)),
            model: self
                .server
                .model
                .unwrap_or_else(|| PathBuf::from(DEFAULT_MODEL)),
            max_content_bytes,
            default_policy,
            site_policies,
            tokens,
        })
    }
}

impl Config {
    /// Fills every threshold the config leaves unset with the loaded model's.
    pub fn adopt_model_thresholds(&mut self, model: Thresholds) -> anyhow::Result<()> {
        self.default_policy
            .adopt_model_thresholds(model)
            .context("in [policy]")?;
        for (site, policy) in &mut self.site_policies {
            policy
                .adopt_model_thresholds(model)
                .with_context(|| format!("in [sites.{site:?}]"))?;
        }
        Ok(())
    }

    /// The policy for a site: its own when configured, the default otherwise.
    pub fn policy(&self, site_id: &str) -> &Policy {
        self.site_policies
            .get(site_id)
            .unwrap_or(&self.default_policy)
    }

    /// The longest duplicate and flood windows of any site, in seconds: history older than
    /// these can no longer make any rule fire.
    pub fn longest_windows(&self) -> (u64, u64) {
        let policies = || std::iter::once(&self.default_policy).chain(self.site_policies.values());
        (
            policies()
                .map(|p| p.duplicate_window_secs)
                .max()
                .unwrap_or(0),
            policies().map(|p| p.flood_window_secs).max().unwrap_or(0),
        )
    }

    /// Refuses to run without authentication anywhere but on a loopback address: an open
    /// moderation API on a network would let anyone approve their own spam.
    pub fn check_exposure(&self) -> anyhow::Result<()> {
        if self.tokens.is_empty() && !self.listen.ip().is_loopback() {
            bail!(
                "no auth tokens are configured, so the server may only listen on a loopback \
                 address, not {}; add [[auth.tokens]] to the config file",
                self.listen
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_file_is_valid() {
        let text = include_str!("../commentguard.example.toml");
        let config = RawConfig::parse(text).unwrap().validate().unwrap();
        assert_eq!(config.policy("news").max_links, 4);
        assert_eq!(config.policy("elsewhere").max_links, 2);
        assert!(!config.tokens.is_empty());
    }

    #[test]
    fn empty_file_gives_defaults() {
        let config = RawConfig::parse("").unwrap().validate().unwrap();
        assert_eq!(config.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(config.max_content_bytes, 64 * 1024);
        assert!(config.tokens.is_empty());
        assert!(config.check_exposure().is_ok());
    }

    #[test]
    fn site_overrides_replace_only_their_keys() {
        let config = RawConfig::parse(
            r#"
            [policy]
            max_links = 2
            blocked_terms = ["casino"]
            [sites.news]
            max_links = 5
            "#,
        )
        .unwrap()
        .validate()
        .unwrap();
        assert_eq!(config.policy("news").max_links, 5);
        assert_eq!(config.policy("news").blocked_terms(), ["casino"]);
        assert_eq!(config.policy("other").max_links, 2);
    }

    #[test]
    fn refuses_open_server_off_loopback() {
        let config = RawConfig::parse("[server]\nlisten = \"0.0.0.0:50051\"")
            .unwrap()
            .validate()
            .unwrap();
        let err = config.check_exposure().unwrap_err().to_string();
        assert!(err.contains("loopback"), "{err}");
    }

    #[test]
    fn rejects_unknown_keys_and_bad_values() {
        assert!(RawConfig::parse("[server]\nlisen = \"x\"").is_err());
        let bad = [
            "[policy]\nhold_threshold = 0.9\nreject_threshold = 0.5",
            "[policy]\nblocked_ips = [\"10.0.0.0/99\"]",
            "[policy]\nmax_linkz = 3",
            "[sites.a]\nhold_threshold = 2.0",
        ];
        for text in bad {
            let parsed = RawConfig::parse(text).unwrap();
            assert!(parsed.validate().is_err(), "accepted {text:?}");
        }
    }

    /// Settings that could never work are refused, saying why, instead of starting a
    /// server that holds every comment, writes into the current folder or blocks its own
    /// review queue.
    #[test]
    fn settings_that_cannot_work_are_refused() {
        let refused = [
            (
                "[server]\nmax_content_bytes = 8388608",
                "must be at most 3145728",
            ),
            ("[server]\ndata_dir = \"\"", "data_dir must not be empty"),
            (
                "[policy]\nmin_content_chars = 100\nmax_content_chars = 10",
                "min_content_chars 100 must not exceed max_content_chars 10",
            ),
            ("[sites.\"\"]\nmax_links = 3", "names no site"),
            ("[sites.\"my blog\\n\"]\nmax_links = 3", "names no site"),
        ];
        for (text, expected) in refused {
            let err = RawConfig::parse(text).unwrap().validate().unwrap_err();
            assert!(format!("{err:#}").contains(expected), "{text:?}: {err:#}");
        }
        let fine = [
            "[server]\nmax_content_bytes = 3145728",
            "[policy]\nmin_content_chars = 100\nmax_content_chars = 0",
            "[sites.\"my blog\"]\nmax_links = 3",
        ];
        for text in fine {
            let parsed = RawConfig::parse(text).unwrap();
            assert!(parsed.validate().is_ok(), "refused {text:?}");
        }
    }
}
