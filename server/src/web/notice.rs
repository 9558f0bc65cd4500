//! The console's result messages: after an action, the next admin page says what was done
//! ("Email of alice confirmed."). The action leaves a [`Notice`] for its admin session (keyed
//! by the session token's hash, like the one-time secrets) and redirects to the page the spec
//! names; the next GET of an admin page takes it, so it shows once. Kept in memory for a
//! minute: a restart or a lost redirect only loses a message.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::i18n::{Locale, t};

/// A catalog key (`done.*`) and the name it mentions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Notice {
    pub key: &'static str,
    pub name: String,
}

impl Notice {
    /// The message in `loc`, with `{name}` filled in.
    pub(crate) fn text(&self, loc: Locale) -> String {
        t(loc, self.key).replace("{name}", &self.name)
    }
}

const KEEP: Duration = Duration::from_secs(60);

/// Notices waiting for their session's next page.
#[derive(Default)]
pub(crate) struct Notices {
    waiting: Mutex<HashMap<String, (Notice, Instant)>>,
}

impl Notices {
    /// Leaves `notice` for the session whose token hashes to `session_hash`.
    pub(crate) fn leave(&self, session_hash: &str, notice: Notice) {
        if let Ok(mut m) = self.waiting.lock() {
            m.retain(|_, (_, at)| at.elapsed() < KEEP);
            m.insert(session_hash.to_owned(), (notice, Instant::now()));
        }
    }

    /// Takes the session's notice, if one is waiting and fresh.
    pub(crate) fn take(&self, session_hash: &str) -> Option<Notice> {
        let (n, at) = self.waiting.lock().ok()?.remove(session_hash)?;
        (at.elapsed() < KEEP).then_some(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notice_shows_once_for_its_session_only() {
        let n = Notices::default();
        let confirmed = Notice {
            key: "done.emailConfirmed",
            name: "alice".into(),
        };
        n.leave("s1", confirmed.clone());
        assert_eq!(n.take("s2"), None);
        assert_eq!(n.take("s1"), Some(confirmed.clone()));
        assert_eq!(n.take("s1"), None);
        assert_eq!(confirmed.text(Locale::En), "Email of alice confirmed.");
        assert_eq!(
            confirmed.text(Locale::Ru),
            "Адрес почты пользователя alice подтверждён."
        );
    }
}
