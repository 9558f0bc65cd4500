//! The console's result messages: after an action, the next admin page says what was done
//! ("Email of alice confirmed."). The action leaves a [`Notice`] for its admin session (keyed
//! by the session token's hash, like the one-time secrets) and redirects to the page the spec
//! names; the next GET of an admin page takes it, so it shows once. Kept for a minute in the
//! database (`store::notes`), so the page may be served by another server process; a lost
//! redirect only loses a message.

use std::time::Duration;

use super::i18n::{Locale, t};
use crate::state::AppState;
use crate::store::{StoreError, notes};
use crate::util::time;

/// A catalog key (`done.*`) and the name it mentions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Notice {
    pub key: String,
    pub name: String,
}

impl Notice {
    pub(crate) fn new(key: &str, name: impl Into<String>) -> Notice {
        Notice {
            key: key.to_owned(),
            name: name.into(),
        }
    }

    /// The message in `loc`, with `{name}` filled in.
    pub(crate) fn text(&self, loc: Locale) -> String {
        t(loc, &self.key).replace("{name}", &self.name)
    }

    /// The stored form: the key, a tab, the name (keys never hold a tab).
    fn encode(&self) -> String {
        format!("{}\t{}", self.key, self.name)
    }

    fn decode(s: &str) -> Option<Notice> {
        let (key, name) = s.split_once('\t')?;
        Some(Notice::new(key, name))
    }
}

const KEEP: Duration = Duration::from_secs(60);
const KIND: &str = "notice";

/// Leaves `notice` for the session whose token hashes to `session_hash`.
pub(crate) async fn leave(
    st: &AppState,
    session_hash: &str,
    notice: Notice,
) -> Result<(), StoreError> {
    let (hash, body, exp) = (
        session_hash.to_owned(),
        notice.encode(),
        time::rfc3339_in(KEEP),
    );
    st.db
        .write(move |c| notes::leave(c, &hash, KIND, &body, &exp))
        .await
}

/// Takes the session's notice, if one is waiting and fresh. Every admin page asks, and most
/// find none: a read answers that, so only a page with a notice costs a write. A storage
/// failure loses the message only (logged).
pub(crate) async fn take(st: &AppState, session_hash: &str) -> Option<Notice> {
    let hash = session_hash.to_owned();
    let waiting = st.db.read(move |c| notes::waiting(c, &hash, KIND)).await;
    if matches!(waiting, Ok(false)) {
        return None;
    }
    let (hash, now) = (session_hash.to_owned(), time::now_rfc3339());
    match st
        .db
        .write(move |c| notes::take(c, &hash, KIND, &now))
        .await
    {
        Ok(body) => body.as_deref().and_then(Notice::decode),
        Err(e) => {
            tracing::warn!(error = %e, "reading a console notice failed");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_round_trip_and_read_in_both_languages() {
        let confirmed = Notice::new("done.emailConfirmed", "alice");
        assert_eq!(Notice::decode(&confirmed.encode()), Some(confirmed.clone()));
        assert_eq!(Notice::decode("no tab"), None);
        assert_eq!(confirmed.text(Locale::En), "Email of alice confirmed.");
        assert_eq!(
            confirmed.text(Locale::Ru),
            "Адрес почты пользователя alice подтверждён."
        );
    }
}
