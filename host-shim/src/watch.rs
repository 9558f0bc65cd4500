//! `watch`: sync on the configured interval, backing off after failures (1, 2, 4, 8, then 15
//! minutes), and stop for good when the device is revoked or unconfigured.
//!
//! One policy, two runtimes. In the Verstak desktop the plugin frontend owns scheduling
//! (plugin-contract §5.5) against a backend that is not this host, so the policy lives in
//! `frontend/src/lib/scheduler.ts`; the headless `watch` has no frontend, so [`next_delay`] is
//! the same policy in Rust (the WIT stays as it is). Neither copies the other: both are checked
//! against one table, `frontend/tests/auto-sync-delays.json`, which the tests below read.
//! Only the interval 0 ("auto-sync off" in the panel) is `watch`'s own: it uses the default.

use std::time::Duration;

/// The longest wait after failures.
const MAX_BACKOFF_MIN: u64 = 15;

/// The interval `watch` uses when auto-sync is off in the settings.
pub const DEFAULT_INTERVAL_MIN: u32 = 5;

/// How long to wait before the next run: the interval after a success (the default when it is
/// 0), the backoff after `failures` consecutive failures.
pub fn next_delay(interval_min: u32, failures: u32) -> Duration {
    let interval = if interval_min == 0 {
        DEFAULT_INTERVAL_MIN
    } else {
        interval_min
    };
    let minutes = if failures == 0 {
        u64::from(interval)
    } else {
        (1u64 << (failures - 1).min(4)).min(MAX_BACKOFF_MIN)
    };
    Duration::from_secs(minutes * 60)
}

/// Failures after which retrying is pointless until the user acts.
pub fn is_terminal(code: &str, revoked: bool) -> bool {
    revoked || matches!(code, "not_configured" | "not_permitted" | "memory_exceeded")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The wait after a run, from the table the frontend's scheduler is checked against too.
    #[test]
    fn follows_the_shared_auto_sync_delay_table() {
        let table: serde_json::Value =
            serde_json::from_str(include_str!("../../frontend/tests/auto-sync-delays.json"))
                .expect("the shared table is JSON");
        let cases = table["cases"].as_array().expect("the table has cases");
        assert!(!cases.is_empty());
        for case in cases {
            let field = |name: &str| {
                let v = case[name]
                    .as_u64()
                    .expect("table fields are counts of minutes");
                u32::try_from(v).expect("table fields fit u32")
            };
            let (interval, failures) = (field("intervalMin"), field("failures"));
            assert_eq!(
                next_delay(interval, failures),
                Duration::from_secs(u64::from(field("waitMin")) * 60),
                "{case}"
            );
        }
    }

    #[test]
    fn backoff_is_1_2_4_8_then_15_minutes() {
        let mins: Vec<u64> = (1..=7).map(|f| next_delay(5, f).as_secs() / 60).collect();
        assert_eq!(mins, [1, 2, 4, 8, 15, 15, 15]);
    }

    #[test]
    fn success_waits_the_interval() {
        assert_eq!(next_delay(30, 0), Duration::from_secs(30 * 60));
        assert_eq!(
            next_delay(0, 0),
            Duration::from_secs(5 * 60),
            "auto-sync off in the settings: watch uses the default"
        );
    }

    #[test]
    fn revocation_and_missing_configuration_stop_the_loop() {
        assert!(is_terminal("server_error", true));
        assert!(is_terminal("not_configured", false));
        assert!(!is_terminal("connection_failed", false));
    }
}
