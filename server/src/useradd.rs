//! `verstak-sync-server user add` (spec §1.3): creates a confirmed user directly in the
//! database, migrating it first, safely alongside a running server (busy timeout 5 s).
//! Without `--email` the user has no email address (unlike §1.3's `<id>@users.invalid`).

use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use verstak_sync_proto::limits::fixed;

use crate::store::audit::{self, AuditEntry};
use crate::store::users::{self, CreateUser};
use crate::store::{Location, write_once};
use crate::util::password::password_source;
use crate::util::{ids, time};

/// The username rule for new names (issue 15, stricter than §6.1): 1 to 320 bytes of letters
/// (any script), ASCII digits, `.`, `_` and `-`. Names stored before the rule keep working:
/// logins never check it, and an admin edit may keep a name unchanged.
pub(crate) fn valid_username(u: &str) -> bool {
    !u.is_empty()
        && u.len() <= fixed::USERNAME
        && u.chars()
            .all(|c| c.is_alphabetic() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
}

/// The JSON error for a username outside [`valid_username`]: the spec's text, then the rule.
pub(crate) const INVALID_USERNAME: &str =
    "invalid username: use only letters, digits, '.', '_' and '-' (at most 320 bytes)";

/// §6.2: a bare `local@domain`, at most 254 bytes, lowercased. `None` when invalid.
pub(crate) fn normalize_email(raw: &str) -> Option<String> {
    let e = raw.trim();
    if e.is_empty() || e.len() > fixed::EMAIL || e.contains(['\r', '\n']) {
        return None;
    }
    let (local, domain) = e.rsplit_once('@')?;
    let bad = |s: &str| {
        s.is_empty()
            || s.chars()
                .any(|c| c.is_whitespace() || c.is_control() || "<>()[],;:\\\"@".contains(c))
    };
    if bad(local)
        || bad(domain)
        || domain.starts_with('.')
        || domain.ends_with('.')
        || local.starts_with('.')
        || local.ends_with('.')
        || e.contains("..")
    {
        return None;
    }
    Some(e.to_lowercase())
}

fn fail(msg: &str) -> ExitCode {
    eprintln!("{msg}");
    ExitCode::from(1)
}

#[derive(Debug, Args)]
pub(crate) struct UserAddArgs {
    #[arg(long, default_value = "./server-data")]
    pub data: PathBuf,
    #[arg(long)]
    pub username: String,
    #[arg(long)]
    pub password: Option<String>,
    #[arg(long)]
    pub password_file: Option<PathBuf>,
    #[arg(long)]
    pub password_stdin: bool,
    #[arg(long)]
    pub email: Option<String>,
    #[command(flatten)]
    pub storage: crate::config::StorageArgs,
}

pub(crate) fn run(a: UserAddArgs) -> ExitCode {
    // The storage flags are read like the server's (a bad value stops here): the database URL
    // selects the database. `user add` writes no blobs.
    let storage = match crate::config::resolve_storage(&a.data, &a.storage) {
        Ok(s) => s,
        Err(e) => return fail(&format!("verstak-sync-server: {e:#}")),
    };
    let password = match password_source(
        a.password.as_deref(),
        a.password_file.as_ref(),
        a.password_stdin,
        false,
    ) {
        Ok(Some(p)) => p,
        Ok(None) => {
            eprintln!(
                "verstak-sync-server: give one of --password, --password-file, --password-stdin"
            );
            return ExitCode::from(2);
        }
        Err(m) => {
            eprintln!("verstak-sync-server: {m}");
            return ExitCode::from(2);
        }
    };
    if !valid_username(&a.username) {
        return fail(&format!(
            "Invalid username {:?}: a username may contain only letters, digits, '.', '_' and \
             '-', at most {} bytes.",
            a.username,
            fixed::USERNAME
        ));
    }
    if password.len() < fixed::PASSWORD_MIN {
        return fail(&format!(
            "The password is too short: it must be at least {} bytes long.",
            fixed::PASSWORD_MIN
        ));
    }
    if password.len() > fixed::PASSWORD_MAX {
        return fail(&format!(
            "The password is too long: it must be at most {} bytes long.",
            fixed::PASSWORD_MAX
        ));
    }
    let id = ids::new_user_id();
    // Without `--email` the account has no address (schema 4), not a made-up one.
    let email = match &a.email {
        Some(e) => match normalize_email(e) {
            Some(n) => Some(n),
            None => return fail("invalid email"),
        },
        None => None,
    };
    let result = (|| -> anyhow::Result<CreateUser> {
        let data = crate::server::prepare_data_dir(&a.data)?;
        let loc = Location::resolve(&data, storage.database_url.as_deref());
        let hash = bcrypt::hash(&password, 10)?;
        let now = time::now_rfc3339();
        let created = write_once(&loc, |c| {
            let created = users::create(c, &id, &a.username, email.as_deref(), &hash, true, &now)?;
            if created == CreateUser::Created {
                let entry = AuditEntry {
                    event_type: "user_created",
                    user_id: Some(id.clone()),
                    message: "user created from command line".into(),
                    ..Default::default()
                };
                audit::insert(c, &entry, &now)?;
            }
            Ok(created)
        })?;
        Ok(created)
    })();
    match result {
        Ok(CreateUser::Created) => {
            println!("created user \"{}\" ({id})", a.username);
            ExitCode::SUCCESS
        }
        Ok(CreateUser::UsernameTaken) => fail("username already taken"),
        Ok(CreateUser::EmailTaken) => fail("email already taken"),
        Err(e) => fail(&format!("verstak-sync-server: {e:#}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_normalisation_examples() {
        assert_eq!(
            normalize_email("  User@Example.Test  ").as_deref(),
            Some("user@example.test")
        );
        assert_eq!(
            normalize_email("victim@example.test\r\nBcc: attacker@example.test"),
            None
        );
        assert_eq!(normalize_email("Display Name <victim@example.test>"), None);
        assert_eq!(normalize_email("not-an-email"), None);
        assert!(valid_username("alice") && !valid_username(" alice") && !valid_username("a\u{7}"));
    }

    #[test]
    fn usernames_are_letters_digits_dot_underscore_hyphen() {
        for ok in [
            "alice",
            "Bob.Smith",
            "e2e-0_x",
            "Иван",
            "7",
            &"a".repeat(320),
        ] {
            assert!(valid_username(ok), "{ok}");
        }
        for bad in [
            "",
            "Bad Name!",
            "a b",
            "a@b",
            "a/b",
            "a+b",
            "a\u{301}",
            "tab\t",
            &"a".repeat(321),
            &"я".repeat(161),
        ] {
            assert!(!valid_username(bad), "{bad:?}");
        }
    }
}
