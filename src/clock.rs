//! The one seam through which the polling and retry loops read and spend
//! time, and draw random pauses, so unit tests can run them on a clock that
//! never really sleeps.

use std::time::{Duration, Instant};

pub trait Clock {
    fn now(&self) -> Instant;
    fn sleep(&self, duration: Duration);
    /// A random pause under `below`, to spread runs that collided.
    fn jitter(&self, below: Duration) -> Duration;
}

pub struct SystemClock;

/// The time left until `deadline` on the system's monotonic clock. What
/// waits in real time (a socket, the progress thread's condvar) cannot run
/// on a test clock, so it reads real time here, the one place that does.
pub fn left_until(deadline: Instant) -> Duration {
    deadline.saturating_duration_since(Instant::now())
}

/// Now, on the system's monotonic clock.
pub fn system_now() -> Instant {
    Instant::now()
}

/// The instant `timeout` from now, on the system's monotonic clock.
pub fn from_now(timeout: Duration) -> Instant {
    Instant::now() + timeout
}

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        system_now()
    }

    fn sleep(&self, duration: Duration) {
        std::thread::sleep(duration);
    }

    fn jitter(&self, below: Duration) -> Duration {
        // std seeds each RandomState from the OS's random source: no crate
        // and no /dev/urandom (absent from some scratch images) needed.
        use std::hash::{BuildHasher, Hasher};
        let random = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish();
        let nanos = below.as_nanos().max(1) as u64;
        Duration::from_nanos(random % nanos)
    }
}

/// A clock that only moves when slept on, and remembers every sleep.
#[cfg(test)]
pub struct FakeClock {
    start: Instant,
    pub slept: std::cell::RefCell<Vec<Duration>>,
    jitter: Duration,
}

#[cfg(test)]
impl FakeClock {
    pub fn new() -> FakeClock {
        FakeClock::with_jitter(Duration::ZERO)
    }

    /// A clock whose every jitter is `jitter`.
    pub fn with_jitter(jitter: Duration) -> FakeClock {
        FakeClock {
            start: Instant::now(),
            slept: Default::default(),
            jitter,
        }
    }

    pub fn elapsed(&self) -> Duration {
        self.slept.borrow().iter().sum()
    }
}

#[cfg(test)]
impl Clock for FakeClock {
    fn now(&self) -> Instant {
        self.start + self.elapsed()
    }

    fn sleep(&self, duration: Duration) {
        self.slept.borrow_mut().push(duration);
    }

    fn jitter(&self, below: Duration) -> Duration {
        self.jitter.min(below)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_below_its_bound_and_varies() {
        let below = Duration::from_secs(1);
        let draws: Vec<Duration> = (0..20).map(|_| SystemClock.jitter(below)).collect();
        assert!(draws.iter().all(|d| *d < below), "{draws:?}");
        assert!(draws.iter().any(|d| *d != draws[0]), "{draws:?}");
    }
}
