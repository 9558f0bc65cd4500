//! The fixed-window rate limiter (spec §6.9): in memory for one server process, in the
//! database when several processes share PostgreSQL ([`Shared`]).
//!
//! Keys are `<action>:ip:<ip>` and `<action>:account:<sha256_hex(lower(trim(account)))>`. The IP
//! bucket is checked first; a denial there leaves the account bucket untouched, and a denial
//! by the account bucket gives the IP bucket its attempt back (one account under attack does
//! not lock out its neighbours behind the same IP). Every allowed check consumes one attempt.
//! The pairing actions count only failures per IP ([`Counts::Failures`]): `check` reserves the
//! attempt and [`RateLimiter::succeeded`] returns it, so a household behind one NAT can pair
//! any number of devices; their account buckets still count every attempt. At most
//! [`MAX_BUCKETS`] buckets are kept: idle ones (older than twice their window) go first, then
//! the least recently used.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::store::StoreError;
use crate::store::sql::{Conn, params};
use crate::util::ids::sha256_hex;

pub(crate) const MAX_BUCKETS: usize = 10_000;

/// A limiter action and its limit per window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    Pair,
    DeviceRegister,
    AuthTest,
    Login,
    Register,
    Forgot,
    Reset,
    AdminReset,
}

impl Action {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Action::Pair => "pair",
            Action::DeviceRegister => "device-register",
            Action::AuthTest => "auth-test",
            Action::Login => "login",
            Action::Register => "register",
            Action::Forgot => "forgot",
            Action::Reset => "reset",
            Action::AdminReset => "admin-reset",
        }
    }
    /// The limits of this action (§6.9; the pairing numbers are issue 15's, see README).
    pub(crate) fn policy(self) -> Policy {
        let every = |n, secs| Policy {
            ip: n,
            account: n,
            window: Duration::from_secs(secs),
            ip_counts: Counts::Every,
        };
        match self {
            Action::Pair | Action::DeviceRegister => Policy {
                ip: 10,
                account: 10,
                window: Duration::from_secs(15 * 60),
                ip_counts: Counts::Failures,
            },
            Action::AuthTest | Action::Login => every(10, 10 * 60),
            Action::Register | Action::Forgot => every(5, 3600),
            Action::Reset | Action::AdminReset => every(8, 3600),
        }
    }
}

/// What an action's IP bucket counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Counts {
    /// Every allowed attempt.
    Every,
    /// Failed attempts only: a success is given back through [`RateLimiter::succeeded`].
    Failures,
}

/// An action's attempts per window: per client IP and per account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Policy {
    pub ip: u32,
    pub account: u32,
    pub window: Duration,
    pub ip_counts: Counts,
}

/// An allowed attempt. When the action's IP bucket counts failures only, it holds the
/// reserved IP attempt, which [`RateLimiter::succeeded`] gives back.
#[derive(Debug)]
#[must_use = "a pairing attempt that succeeded must be given back with `succeeded`"]
pub(crate) struct Attempt(Option<(String, Start)>);

/// When a bucket's window started: an instant of this process, or unix milliseconds in the
/// database (shared by every server process).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Start {
    Local(Instant),
    Shared(i64),
}

/// Where buckets live. The rules of [`check_in`] are the same for both.
pub(crate) trait Buckets {
    /// Consumes one attempt of `key` (at most `max` per `window`): the window's start, or
    /// `Ok(Err(retry_after_secs))` when the bucket is full.
    fn hit(
        &mut self,
        key: &str,
        max: u32,
        window: Duration,
    ) -> Result<Result<Start, u64>, StoreError>;
    /// Returns one attempt to `key`, if its window is still the one that took it.
    fn give_back(&mut self, key: &str, start: Start) -> Result<(), StoreError>;
}

/// Checks and consumes one attempt of `action` (§6.9 and the module doc).
pub(crate) fn check_in<B: Buckets>(
    b: &mut B,
    action: Action,
    ip: IpAddr,
    account: Option<&str>,
) -> Result<Result<Attempt, u64>, StoreError> {
    let policy = action.policy();
    let ip_key = format!("{}:ip:{ip}", action.name());
    let start = match b.hit(&ip_key, policy.ip, policy.window)? {
        Ok(s) => s,
        Err(retry) => return Ok(Err(retry)),
    };
    if let Some(acc) = account {
        let key = format!(
            "{}:account:{}",
            action.name(),
            sha256_hex(&acc.trim().to_lowercase())
        );
        if let Err(retry) = b.hit(&key, policy.account, policy.window)? {
            b.give_back(&ip_key, start)?;
            return Ok(Err(retry));
        }
    }
    Ok(Ok(Attempt(
        (policy.ip_counts == Counts::Failures).then_some((ip_key, start)),
    )))
}

/// The attempt succeeded: an IP bucket that counts failures only gets it back.
pub(crate) fn succeeded_in<B: Buckets>(b: &mut B, attempt: Attempt) -> Result<(), StoreError> {
    match attempt {
        Attempt(Some((key, start))) => b.give_back(&key, start),
        Attempt(None) => Ok(()),
    }
}

struct Bucket {
    count: u32,
    start: Instant,
    last_used: Instant,
    window: Duration,
}

/// The buckets of one server process (SQLite: there is only one).
#[derive(Default)]
pub(crate) struct RateLimiter {
    buckets: Mutex<HashMap<String, Bucket>>,
}

/// [`RateLimiter`]'s map at one instant.
struct Local<'a> {
    map: &'a mut HashMap<String, Bucket>,
    now: Instant,
}

impl RateLimiter {
    /// Checks and consumes one attempt. `Err(retry_after_secs)` on denial.
    pub(crate) fn check(
        &self,
        action: Action,
        ip: IpAddr,
        account: Option<&str>,
    ) -> Result<Attempt, u64> {
        self.check_at(action, ip, account, Instant::now())
    }

    pub(crate) fn check_at(
        &self,
        action: Action,
        ip: IpAddr,
        account: Option<&str>,
        now: Instant,
    ) -> Result<Attempt, u64> {
        let mut map = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let mut local = Local { map: &mut map, now };
        check_in(&mut local, action, ip, account).expect("memory buckets never fail")
    }

    /// The attempt succeeded: an IP bucket that counts failures only gets it back.
    pub(crate) fn succeeded(&self, attempt: Attempt) {
        let mut map = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let mut local = Local {
            map: &mut map,
            now: Instant::now(),
        };
        let _ = succeeded_in(&mut local, attempt);
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.buckets.lock().map(|m| m.len()).unwrap_or(0)
    }
}

impl Buckets for Local<'_> {
    fn give_back(&mut self, key: &str, start: Start) -> Result<(), StoreError> {
        if let Some(b) = self.map.get_mut(key)
            && Start::Local(b.start) == start
        {
            b.count = b.count.saturating_sub(1);
        }
        Ok(())
    }

    fn hit(
        &mut self,
        key: &str,
        max: u32,
        window: Duration,
    ) -> Result<Result<Start, u64>, StoreError> {
        let (map, now) = (&mut *self.map, self.now);
        if !map.contains_key(key) && map.len() >= MAX_BUCKETS {
            map.retain(|_, b| now.duration_since(b.last_used) <= b.window * 2);
            if map.len() >= MAX_BUCKETS
                && let Some(oldest) = map
                    .iter()
                    .min_by_key(|(_, b)| b.last_used)
                    .map(|(k, _)| k.clone())
            {
                map.remove(&oldest);
            }
        }
        let b = map.entry(key.to_owned()).or_insert(Bucket {
            count: 0,
            start: now,
            last_used: now,
            window,
        });
        b.last_used = now;
        if now.duration_since(b.start) >= b.window {
            b.count = 0;
            b.start = now;
        }
        if b.count >= max {
            let left = b.window.saturating_sub(now.duration_since(b.start));
            return Ok(Err(retry_secs(left)));
        }
        b.count += 1;
        Ok(Ok(Start::Local(b.start)))
    }
}

fn retry_secs(left: Duration) -> u64 {
    left.as_secs_f64().ceil().max(1.0) as u64
}

/// Buckets in the database (`server_rate_limits`), for several server processes sharing one
/// PostgreSQL: each hit is one atomic upsert, so attempts on every node count together.
pub(crate) struct Shared<'c> {
    pub c: &'c Conn,
    /// Unix milliseconds.
    pub now: i64,
}

impl Buckets for Shared<'_> {
    fn hit(
        &mut self,
        key: &str,
        max: u32,
        window: Duration,
    ) -> Result<Result<Start, u64>, StoreError> {
        let window_ms = window.as_millis() as i64;
        // A full bucket counts on past its limit; it only matters that it is past.
        let (start, count): (i64, i64) = self.c.query_row(
            "INSERT INTO server_rate_limits (key, window_start, count) VALUES (?1, ?2, 1)
             ON CONFLICT (key) DO UPDATE SET
               window_start = CASE WHEN ?2 - server_rate_limits.window_start >= ?3 THEN ?2
                                   ELSE server_rate_limits.window_start END,
               count = CASE WHEN ?2 - server_rate_limits.window_start >= ?3 THEN 1
                            ELSE server_rate_limits.count + 1 END
             RETURNING window_start, count",
            params![key, self.now, window_ms],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        if count > i64::from(max) {
            let left = (start + window_ms - self.now).max(0);
            return Ok(Err(retry_secs(Duration::from_millis(left as u64))));
        }
        Ok(Ok(Start::Shared(start)))
    }

    fn give_back(&mut self, key: &str, start: Start) -> Result<(), StoreError> {
        if let Start::Shared(start) = start {
            self.c.execute(
                "UPDATE server_rate_limits SET count = count - 1
                 WHERE key = ?1 AND window_start = ?2 AND count > 0",
                params![key, start],
            )?;
        }
        Ok(())
    }
}

/// Drops buckets whose window ended long ago (retention).
pub(crate) fn prune_shared(c: &Conn, now: i64) -> Result<(), StoreError> {
    let longest = [
        Action::Pair,
        Action::DeviceRegister,
        Action::AuthTest,
        Action::Login,
        Action::Register,
        Action::Forgot,
        Action::Reset,
        Action::AdminReset,
    ]
    .iter()
    .map(|a| a.policy().window.as_millis() as i64)
    .max()
    .unwrap_or(0);
    c.execute(
        "DELETE FROM server_rate_limits WHERE window_start < ?1",
        params![now - 2 * longest],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_limits_and_resets() {
        let rl = RateLimiter::default();
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let t0 = Instant::now();
        for i in 0..10 {
            assert!(
                rl.check_at(Action::AuthTest, ip, Some(&format!("u{i}")), t0)
                    .is_ok()
            );
        }
        let retry = rl
            .check_at(Action::AuthTest, ip, Some("x"), t0)
            .unwrap_err();
        assert!((1..=600).contains(&retry));
        assert!(
            rl.check_at(
                Action::AuthTest,
                ip,
                Some("x"),
                t0 + Duration::from_secs(601)
            )
            .is_ok()
        );
    }

    #[test]
    fn account_bucket_limits_across_ips() {
        let rl = RateLimiter::default();
        let t0 = Instant::now();
        for i in 0..10u8 {
            let ip = IpAddr::from([10, 0, 0, i]);
            let a = rl.check_at(Action::Pair, ip, Some(" Alice "), t0).unwrap();
            rl.succeeded(a);
        }
        assert!(
            rl.check_at(Action::Pair, IpAddr::from([10, 0, 1, 1]), Some("alice"), t0)
                .is_err()
        );
    }

    #[test]
    fn pairing_counts_failures_per_ip_and_every_attempt_per_account() {
        let rl = RateLimiter::default();
        let ip = IpAddr::from([192, 0, 2, 1]);
        let t0 = Instant::now();
        // A household: many accounts pair successfully from one IP.
        for i in 0..30 {
            let a = rl
                .check_at(Action::Pair, ip, Some(&format!("u{i}")), t0)
                .unwrap();
            rl.succeeded(a);
        }
        // Ten failures (attempts never given back) fill the IP bucket.
        for i in 0..10 {
            let _failed = rl
                .check_at(Action::Pair, ip, Some(&format!("x{i}")), t0)
                .unwrap();
        }
        let retry = rl.check_at(Action::Pair, ip, Some("y"), t0).unwrap_err();
        assert_eq!(retry, 15 * 60);
        // A new window forgets them.
        let later = t0 + Duration::from_secs(15 * 60);
        let _ = rl.check_at(Action::Pair, ip, Some("y"), later).unwrap();
        // An attempt from the old window given back late does not refund the new one.
        let old = rl
            .check_at(Action::Pair, IpAddr::from([192, 0, 2, 2]), None, t0)
            .unwrap();
        let mut map = rl.buckets.lock().unwrap();
        map.get_mut("pair:ip:192.0.2.2").unwrap().start = later;
        map.get_mut("pair:ip:192.0.2.2").unwrap().count = 1;
        drop(map);
        rl.succeeded(old);
        assert_eq!(rl.buckets.lock().unwrap()["pair:ip:192.0.2.2"].count, 1);
    }

    #[test]
    fn an_account_denial_gives_the_ip_its_attempt_back() {
        let rl = RateLimiter::default();
        let t0 = Instant::now();
        let ip = IpAddr::from([192, 0, 2, 9]);
        for i in 0..10u8 {
            let _ = rl
                .check_at(Action::Pair, IpAddr::from([10, 0, 0, i]), Some("bob"), t0)
                .unwrap();
        }
        for _ in 0..20 {
            assert!(rl.check_at(Action::Pair, ip, Some("bob"), t0).is_err());
        }
        let _failed = rl.check_at(Action::Pair, ip, Some("carol"), t0).unwrap();
        assert_eq!(rl.buckets.lock().unwrap()["pair:ip:192.0.2.9"].count, 1);
        // Login counts every attempt, but an account denial is given back there too.
        for i in 0..10u8 {
            let _ = rl
                .check_at(Action::Login, IpAddr::from([10, 0, 0, i]), Some("bob"), t0)
                .unwrap();
        }
        assert!(rl.check_at(Action::Login, ip, Some("bob"), t0).is_err());
        assert_eq!(rl.buckets.lock().unwrap()["login:ip:192.0.2.9"].count, 0);
    }

    /// The database buckets follow the same rules (run here on SQLite, which accepts the
    /// same upsert as PostgreSQL).
    #[test]
    fn shared_buckets_count_give_back_and_reset() {
        let c = Conn::Sqlite(rusqlite::Connection::open_in_memory().unwrap());
        c.execute_batch(
            "CREATE TABLE server_rate_limits (key TEXT PRIMARY KEY, window_start INTEGER NOT NULL, count INTEGER NOT NULL)",
        )
        .unwrap();
        let ip = IpAddr::from([192, 0, 2, 7]);
        let t0 = 1_000_000_000i64;
        let mut b = Shared { c: &c, now: t0 };
        // Pairing: successes given back, so only failures fill the IP bucket.
        for i in 0..12 {
            let a = check_in(&mut b, Action::Pair, ip, Some(&format!("ok{i}")))
                .unwrap()
                .unwrap();
            succeeded_in(&mut b, a).unwrap();
        }
        for i in 0..10 {
            let _failed = check_in(&mut b, Action::Pair, ip, Some(&format!("f{i}")))
                .unwrap()
                .unwrap();
        }
        let retry = check_in(&mut b, Action::Pair, ip, Some("z"))
            .unwrap()
            .unwrap_err();
        assert_eq!(retry, 15 * 60);
        // An account denial gives the IP its attempt back.
        let other = IpAddr::from([192, 0, 2, 8]);
        for i in 0..10u8 {
            let _ = check_in(
                &mut b,
                Action::Login,
                IpAddr::from([10, 1, 0, i]),
                Some("bob"),
            )
            .unwrap()
            .unwrap();
        }
        assert!(
            check_in(&mut b, Action::Login, other, Some("bob"))
                .unwrap()
                .is_err()
        );
        let count: i64 = c
            .query_row(
                "SELECT count FROM server_rate_limits WHERE key = 'login:ip:192.0.2.8'",
                params![],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(count, 0);
        // A new window forgets the failures; pruning drops buckets long past.
        let mut later = Shared {
            c: &c,
            now: t0 + 15 * 60 * 1000,
        };
        assert!(
            check_in(&mut later, Action::Pair, ip, Some("z"))
                .unwrap()
                .is_ok()
        );
        prune_shared(&c, t0 + 10 * 3600 * 1000).unwrap();
        let left: i64 = c
            .query_row("SELECT COUNT(*) FROM server_rate_limits", params![], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(left, 0);
    }

    #[test]
    fn bucket_table_is_bounded() {
        let rl = RateLimiter::default();
        let t0 = Instant::now();
        for i in 0..10_100u32 {
            let ip = IpAddr::from(i.to_be_bytes());
            let _ = rl.check_at(Action::Pair, ip, None, t0).unwrap();
        }
        assert!(rl.len() <= MAX_BUCKETS);
    }
}
