//! Event streams across server processes. With PostgreSQL several processes serve one
//! database, and a device's stream may be held by another process than the one its push hit.
//! So each process sends what its [`EventHub`] publishes (a push, a stream-closing change) with
//! `NOTIFY verstak_events`, and one thread per process `LISTEN`s and hands what the other
//! processes sent to its own hub ([`EventHub::apply`]).
//!
//! Notes go out after their commit, like local publishing, in order per process. A note lost
//! with its process (killed between the commit and the notify) costs a device a delayed
//! announcement, never a change: every stream's client also pulls when it (re)connects.

use postgres::fallible_iterator::FallibleIterator;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

use super::{CloseReason, EventHub};
use crate::store::sql::params;
use crate::store::{Db, Scope};

/// The PostgreSQL notification channel.
const CHANNEL: &str = "verstak_events";

/// What one process tells the others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Note {
    Pushed {
        scope: Scope,
        after: i64,
        seq: i64,
        device: String,
    },
    CloseDevice(String, CloseReason),
    CloseUser(String, CloseReason),
    /// The admin console saved settings (`crate::console_settings`).
    Settings,
}

const REASONS: [CloseReason; 5] = [
    CloseReason::DeviceRevoked,
    CloseReason::DeviceDeleted,
    CloseReason::UserDeleted,
    CloseReason::UserBlocked,
    CloseReason::ServerShutdown,
];

fn reason_index(r: CloseReason) -> usize {
    REASONS.iter().position(|x| *x == r).unwrap_or(0)
}

impl Note {
    /// `node` and the note's fields, tab-separated (ids never hold a tab).
    pub(crate) fn encode(&self, node: &str) -> String {
        match self {
            Note::Pushed {
                scope,
                after,
                seq,
                device,
            } => format!(
                "{node}\tp\t{}\t{}\t{after}\t{seq}\t{device}",
                scope.user_id, scope.vault_id
            ),
            Note::CloseDevice(d, r) => format!("{node}\td\t{d}\t{}", reason_index(*r)),
            Note::CloseUser(u, r) => format!("{node}\tu\t{u}\t{}", reason_index(*r)),
            Note::Settings => format!("{node}\ts"),
        }
    }

    /// The sending node and the note; `None` for anything malformed.
    pub(crate) fn decode(s: &str) -> Option<(&str, Note)> {
        let f: Vec<&str> = s.split('\t').collect();
        let reason = |i: &str| REASONS.get(i.parse::<usize>().ok()?).copied();
        let note = match f.as_slice() {
            [_, "p", user, vault, after, seq, device] => Note::Pushed {
                scope: Scope {
                    user_id: (*user).to_owned(),
                    vault_id: (*vault).to_owned(),
                },
                after: after.parse().ok()?,
                seq: seq.parse().ok()?,
                device: (*device).to_owned(),
            },
            [_, "d", device, r] => Note::CloseDevice((*device).to_owned(), reason(r)?),
            [_, "u", user, r] => Note::CloseUser((*user).to_owned(), reason(r)?),
            [_, "s"] => Note::Settings,
            _ => return None,
        };
        Some((f[0], note))
    }
}

/// Starts relaying `hub` through the PostgreSQL database at `url`: the sender task and the
/// listening thread.
pub(crate) fn start(hub: Arc<EventHub>, db: Db, url: String) {
    let node = crate::util::ids::random_hex(8);
    let (tx, mut rx) = mpsc::unbounded_channel::<Note>();
    hub.relay_to(tx);
    let from = node.clone();
    tokio::spawn(async move {
        while let Some(first) = rx.recv().await {
            let mut notes = vec![first.encode(&from)];
            while let Ok(n) = rx.try_recv() {
                notes.push(n.encode(&from));
            }
            let sent = db
                .write(move |c| {
                    for n in &notes {
                        c.query_row(
                            "SELECT 1 FROM (SELECT pg_notify(?1, ?2)) AS sent",
                            params![CHANNEL, n],
                            |_| Ok(()),
                        )?;
                    }
                    Ok(())
                })
                .await;
            if let Err(e) = sent {
                tracing::warn!(error = %e, "relaying events to other server processes failed");
            }
        }
    });
    let spawned = std::thread::Builder::new()
        .name("events-listen".into())
        .spawn(move || listen(&hub, &node, &url));
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start the event listener");
    }
}

/// Receives the other processes' notes for as long as the process runs; reconnects after a
/// lost connection.
fn listen(hub: &EventHub, node: &str, url: &str) {
    let mut pause = Duration::from_millis(200);
    loop {
        match listen_once(hub, node, url) {
            Ok(()) => pause = Duration::from_millis(200),
            Err(e) => tracing::warn!(error = %e, "event listener lost its database connection"),
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_secs(10));
    }
}

fn listen_once(hub: &EventHub, node: &str, url: &str) -> Result<(), postgres::Error> {
    let mut client = postgres::Client::connect(url, postgres::NoTls)?;
    client.batch_execute(&format!("LISTEN {CHANNEL}"))?;
    // Settings saved while this process was not listening would stay unseen until an admin
    // request looks: look now.
    hub.apply(Note::Settings);
    let mut notes = client.notifications();
    let mut it = notes.blocking_iter();
    while let Some(n) = it.next()? {
        match Note::decode(n.payload()) {
            Some((from, note)) if from != node => hub.apply(note),
            Some(_) => {}
            None => tracing::warn!("ignoring a malformed event note"),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_round_trip() {
        let notes = [
            Note::Pushed {
                scope: Scope {
                    user_id: "u1".into(),
                    vault_id: "my vault".into(),
                },
                after: 4,
                seq: 9,
                device: "dev_1".into(),
            },
            Note::CloseDevice("dev_2".into(), CloseReason::DeviceDeleted),
            Note::CloseUser("u3".into(), CloseReason::UserBlocked),
            Note::Settings,
        ];
        for n in notes {
            let text = n.encode("node7");
            assert_eq!(Note::decode(&text), Some(("node7", n)));
        }
        assert_eq!(Note::decode("n\tp\tu\tv\tx\t1\td"), None);
        assert_eq!(Note::decode("n\tq"), None);
    }
}
