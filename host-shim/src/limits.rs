//! Resource limits for one component instance: a memory cap and a deadline per export call.

use std::time::Duration;

/// How much a component may use. The defaults suit a sync run over a large vault.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The most linear memory the component may grow to.
    pub memory_bytes: usize,
    /// Wall-clock budget of one export call, measured in epoch ticks of [`EPOCH_TICK`].
    pub call_deadline: Duration,
}

/// How often the ticker bumps the engine's epoch; the granularity of deadlines.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            memory_bytes: 256 << 20,
            call_deadline: Duration::from_secs(3600),
        }
    }
}

impl Limits {
    pub fn deadline_ticks(&self) -> u64 {
        (self.call_deadline.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64
    }
}

/// A `ResourceLimiter` that remembers whether it refused memory, so a trap that follows can be
/// reported as "memory limit exceeded" rather than as an opaque guest abort.
#[derive(Debug)]
pub struct MemoryCap {
    max_bytes: usize,
    pub hit: bool,
}

impl MemoryCap {
    pub fn new(max_bytes: usize) -> MemoryCap {
        MemoryCap {
            max_bytes,
            hit: false,
        }
    }
}

impl wasmtime::ResourceLimiter for MemoryCap {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = desired <= self.max_bytes;
        self.hit |= !allowed;
        Ok(allowed)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }

    fn instances(&self) -> usize {
        16
    }

    fn tables(&self) -> usize {
        16
    }

    fn memories(&self) -> usize {
        4
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmtime::ResourceLimiter;

    #[test]
    fn the_cap_refuses_growth_past_the_limit_and_remembers_it() {
        let mut cap = MemoryCap::new(1 << 20);
        assert!(cap.memory_growing(0, 1 << 20, None).unwrap());
        assert!(!cap.hit);
        assert!(
            !cap.memory_growing(1 << 20, (1 << 20) + 65536, None)
                .unwrap()
        );
        assert!(cap.hit);
    }

    #[test]
    fn deadlines_are_at_least_one_tick() {
        let l = Limits {
            call_deadline: Duration::from_millis(1),
            ..Limits::default()
        };
        assert_eq!(l.deadline_ticks(), 1);
        let l = Limits {
            call_deadline: Duration::from_secs(2),
            ..Limits::default()
        };
        assert_eq!(l.deadline_ticks(), 200);
    }
}
