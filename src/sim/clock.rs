//! The simulated tenant's clock: real time plus an offset that the control API can advance.
//!
//! Everything in the simulator's data that Microsoft would time-stamp or expire (authorization
//! codes, temporary access passes, the sign-in window, the registration report's lag) reads this
//! clock, so a test can jump hours
//! ahead instead of waiting for them.
//!
//! Signed tokens keep real time: the bot checks their `iat`/`nbf`/`exp` against its own clock,
//! as it does with Microsoft's. To make the bot see expired tokens, the control API revokes them
//! instead.

use std::sync::Mutex;

use jiff::{SignedDuration, Timestamp};

/// Real time shifted by an offset that only grows.
#[derive(Debug, Default)]
pub struct SimClock {
    offset: Mutex<SignedDuration>,
}

impl SimClock {
    /// A clock that reads real time until advanced.
    pub fn new() -> SimClock {
        SimClock::default()
    }

    /// The simulated present.
    pub fn now(&self) -> Timestamp {
        Timestamp::now()
            .checked_add(self.offset())
            .unwrap_or(Timestamp::MAX)
    }

    /// How far ahead of real time the clock runs.
    pub fn offset(&self) -> SignedDuration {
        *self.offset.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Moves the clock forward by `by`; time never runs backwards, so negative steps are
    /// refused with the offset unchanged.
    pub fn advance(&self, by: SignedDuration) -> Result<Timestamp, NegativeStep> {
        if by.is_negative() {
            return Err(NegativeStep);
        }
        let mut offset = self.offset.lock().unwrap_or_else(|e| e.into_inner());
        *offset = offset.saturating_add(by);
        drop(offset);
        Ok(self.now())
    }
}

/// Simulated time cannot go backwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("simulated time only moves forward")]
pub struct NegativeStep;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_moves_now_forward_by_the_step() {
        let clock = SimClock::new();
        let before = clock.now();
        let after = clock.advance(SignedDuration::from_hours(2)).unwrap();
        let moved = after.duration_since(before);
        assert!(moved >= SignedDuration::from_hours(2), "{moved:?}");
        assert!(moved < SignedDuration::from_hours(2) + SignedDuration::from_secs(5));
        assert_eq!(clock.offset(), SignedDuration::from_hours(2));
    }

    #[test]
    fn a_negative_step_is_refused_and_changes_nothing() {
        let clock = SimClock::new();
        clock.advance(SignedDuration::from_mins(5)).unwrap();
        assert_eq!(
            clock.advance(SignedDuration::from_mins(-1)),
            Err(NegativeStep)
        );
        assert_eq!(clock.offset(), SignedDuration::from_mins(5));
    }
}
