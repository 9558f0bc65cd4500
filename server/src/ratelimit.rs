//! The in-memory fixed-window rate limiter (spec §6.9).
//!
//! Keys are `<action>:ip:<ip>` and `<action>:account:<sha256_hex(lower(trim(account)))>`. The IP
//! bucket is checked first; a denial there leaves the account bucket untouched. Every allowed
//! check consumes one attempt. At most [`MAX_BUCKETS`] buckets are kept: idle ones (older than
//! twice their window) go first, then the least recently used.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

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
    fn limit(self) -> (u32, Duration) {
        match self {
            Action::Pair | Action::DeviceRegister => (5, Duration::from_secs(15 * 60)),
            Action::AuthTest | Action::Login => (10, Duration::from_secs(10 * 60)),
            Action::Register | Action::Forgot => (5, Duration::from_secs(3600)),
            Action::Reset | Action::AdminReset => (8, Duration::from_secs(3600)),
        }
    }
}

struct Bucket {
    count: u32,
    start: Instant,
    last_used: Instant,
    window: Duration,
}

#[derive(Default)]
pub(crate) struct RateLimiter {
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    /// Checks and consumes one attempt. `Err(retry_after_secs)` on denial.
    pub(crate) fn check(
        &self,
        action: Action,
        ip: IpAddr,
        account: Option<&str>,
    ) -> Result<(), u64> {
        self.check_at(action, ip, account, Instant::now())
    }

    pub(crate) fn check_at(
        &self,
        action: Action,
        ip: IpAddr,
        account: Option<&str>,
        now: Instant,
    ) -> Result<(), u64> {
        let mut map = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let ip_key = format!("{}:ip:{ip}", action.name());
        Self::hit(&mut map, ip_key, action, now)?;
        if let Some(acc) = account {
            let key = format!(
                "{}:account:{}",
                action.name(),
                sha256_hex(&acc.trim().to_lowercase())
            );
            Self::hit(&mut map, key, action, now)?;
        }
        Ok(())
    }

    fn hit(
        map: &mut HashMap<String, Bucket>,
        key: String,
        action: Action,
        now: Instant,
    ) -> Result<(), u64> {
        let (max, window) = action.limit();
        if !map.contains_key(&key) && map.len() >= MAX_BUCKETS {
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
        let b = map.entry(key).or_insert(Bucket {
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
            return Err(left.as_secs_f64().ceil().max(1.0) as u64);
        }
        b.count += 1;
        Ok(())
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.buckets.lock().map(|m| m.len()).unwrap_or(0)
    }
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
        for i in 0..5u8 {
            let ip = IpAddr::from([10, 0, 0, i]);
            assert!(rl.check_at(Action::Pair, ip, Some(" Alice "), t0).is_ok());
        }
        assert!(
            rl.check_at(Action::Pair, IpAddr::from([10, 0, 1, 1]), Some("alice"), t0)
                .is_err()
        );
    }

    #[test]
    fn bucket_table_is_bounded() {
        let rl = RateLimiter::default();
        let t0 = Instant::now();
        for i in 0..10_100u32 {
            let ip = IpAddr::from(i.to_be_bytes());
            assert!(rl.check_at(Action::Pair, ip, None, t0).is_ok());
        }
        assert!(rl.len() <= MAX_BUCKETS);
    }
}
