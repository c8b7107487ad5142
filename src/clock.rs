//! The one seam through which the polling and retry loops read and spend
//! time, so unit tests can run them on a clock that never really sleeps.

use std::time::{Duration, Instant};

pub trait Clock {
    fn now(&self) -> Instant;
    fn sleep(&self, duration: Duration);
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn sleep(&self, duration: Duration) {
        std::thread::sleep(duration);
    }
}

/// A clock that only moves when slept on, and remembers every sleep.
#[cfg(test)]
pub struct FakeClock {
    start: Instant,
    pub slept: std::cell::RefCell<Vec<Duration>>,
}

#[cfg(test)]
impl FakeClock {
    pub fn new() -> FakeClock {
        FakeClock {
            start: Instant::now(),
            slept: Default::default(),
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
}
