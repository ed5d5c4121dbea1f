//! The requests the server has seen: RFC 5080's duplicate detection, and replays.
//!
//! A request is known by its client and Request Authenticator (the client's secret covers the
//! authenticator through the Message-Authenticator; the source port is not covered, so a copy
//! from another port is the same request). While it is worked on, copies are dropped; once
//! answered, copies get the same answer for [`ANSWER_MEMORY`], and are dropped as replays for
//! [`REPLAY_MEMORY`]. Memory is bounded: at most [`MAX_ANSWERS`] answers and [`MAX_SEEN`]
//! requests are kept, the oldest forgotten first, so under a flood the windows shrink instead of
//! the memory growing. (A forgotten request that comes again is checked again; its code, used
//! once already, is refused by the core. What the memory saves is the second count and the
//! second send.)

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long an answer is kept for retransmissions of its request.
pub(crate) const ANSWER_MEMORY: Duration = Duration::from_secs(30);
/// How long a request is remembered as seen (a copy is a replay).
pub(crate) const REPLAY_MEMORY: Duration = Duration::from_secs(300);
/// Answers kept at most (each at most about 1 KiB: Proxy-State is bounded by the server).
pub(crate) const MAX_ANSWERS: usize = 16_384;
/// Requests remembered as seen at most (about 50 bytes each).
pub(crate) const MAX_SEEN: usize = 131_072;

/// A request: its client (by a hash of the name) and its Request Authenticator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct RequestKey(u64, [u8; 16]);

impl RequestKey {
    pub(crate) fn new(client: &str, authenticator: [u8; 16]) -> Self {
        let mut h = DefaultHasher::new();
        client.hash(&mut h);
        RequestKey(h.finish(), authenticator)
    }
}

/// What a new datagram is to the memory.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Lookup {
    /// Not seen: it is now in progress.
    New,
    /// Being worked on: drop the copy.
    InProgress,
    /// Answered lately: send this again.
    Answer(Arc<[u8]>),
    /// Answered before its answer was forgotten: a replay, dropped.
    Replay,
}

/// The memory.
#[derive(Debug, Default)]
pub(crate) struct Recent {
    in_progress: HashSet<RequestKey>,
    answers: HashMap<RequestKey, Arc<[u8]>>,
    answer_order: VecDeque<(Instant, RequestKey)>,
    seen: HashSet<RequestKey>,
    seen_order: VecDeque<(Instant, RequestKey)>,
}

impl Recent {
    /// What `key` is, at `now`; a new one is marked in progress.
    pub(crate) fn lookup(&mut self, key: RequestKey, now: Instant) -> Lookup {
        self.expire(now);
        if self.in_progress.contains(&key) {
            return Lookup::InProgress;
        }
        if let Some(answer) = self.answers.get(&key) {
            return Lookup::Answer(Arc::clone(answer));
        }
        if self.seen.contains(&key) {
            return Lookup::Replay;
        }
        self.in_progress.insert(key);
        Lookup::New
    }

    /// The work on `key` ended: with an answer (remembered), or none (forgotten, so a
    /// retransmission is worked on afresh).
    pub(crate) fn finish(&mut self, key: RequestKey, answer: Option<&[u8]>, now: Instant) {
        self.in_progress.remove(&key);
        let Some(answer) = answer else {
            return;
        };
        if self.answers.insert(key, Arc::from(answer)).is_none() {
            self.answer_order.push_back((now, key));
        }
        if self.seen.insert(key) {
            self.seen_order.push_back((now, key));
        }
        self.expire(now);
    }

    /// Forgets answers and requests past their time or over their caps, oldest first.
    fn expire(&mut self, now: Instant) {
        while let Some(&(at, key)) = self.answer_order.front() {
            if now.duration_since(at) < ANSWER_MEMORY && self.answer_order.len() <= MAX_ANSWERS {
                break;
            }
            self.answer_order.pop_front();
            self.answers.remove(&key);
        }
        while let Some(&(at, key)) = self.seen_order.front() {
            if now.duration_since(at) < REPLAY_MEMORY && self.seen_order.len() <= MAX_SEEN {
                break;
            }
            self.seen_order.pop_front();
            self.seen.remove(&key);
        }
    }

    #[cfg(test)]
    fn sizes(&self) -> (usize, usize, usize) {
        (self.in_progress.len(), self.answers.len(), self.seen.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u32) -> RequestKey {
        let mut a = [0u8; 16];
        a[..4].copy_from_slice(&n.to_be_bytes());
        RequestKey::new("vpn", a)
    }

    #[test]
    #[allow(
        clippy::disallowed_methods,
        reason = "a start for the test's own times"
    )]
    fn copies_are_dropped_answered_again_then_refused_as_replays() {
        let t0 = Instant::now();
        let mut r = Recent::default();
        assert_eq!(r.lookup(key(1), t0), Lookup::New);
        assert_eq!(r.lookup(key(1), t0), Lookup::InProgress);
        r.finish(key(1), Some(b"answer"), t0);
        assert_eq!(
            r.lookup(key(1), t0),
            Lookup::Answer(Arc::from(&b"answer"[..]))
        );
        let later = t0 + ANSWER_MEMORY;
        assert_eq!(r.lookup(key(1), later), Lookup::Replay);
        assert_eq!(r.lookup(key(1), t0 + REPLAY_MEMORY), Lookup::New);
        // Not answered: forgotten, so the next copy is worked on.
        r.finish(key(1), None, t0 + REPLAY_MEMORY);
        assert_eq!(r.lookup(key(1), t0 + REPLAY_MEMORY), Lookup::New);
        // Another client's request with the same authenticator is another request.
        let other = RequestKey::new("pam-host", key(1).1);
        assert_eq!(r.lookup(other, t0 + REPLAY_MEMORY), Lookup::New);
    }

    #[test]
    #[allow(
        clippy::disallowed_methods,
        reason = "a start for the test's own times"
    )]
    fn a_flood_keeps_the_memory_bounded_and_new_requests_served() {
        let t0 = Instant::now();
        let mut r = Recent::default();
        let n = u32::try_from(MAX_SEEN + 1000).unwrap();
        for i in 0..n {
            assert_eq!(r.lookup(key(i), t0), Lookup::New, "{i}");
            r.finish(key(i), Some(b"a"), t0);
        }
        let (busy, answers, seen) = r.sizes();
        assert_eq!(busy, 0);
        assert!(answers <= MAX_ANSWERS, "{answers}");
        assert!(seen <= MAX_SEEN, "{seen}");
        // The newest are still known; the oldest were forgotten first.
        assert_eq!(
            r.lookup(key(n - 1), t0),
            Lookup::Answer(Arc::from(&b"a"[..]))
        );
        let answered_long_ago = n - u32::try_from(MAX_ANSWERS).unwrap() - 10;
        assert_eq!(r.lookup(key(answered_long_ago), t0), Lookup::Replay);
        assert_eq!(r.lookup(key(0), t0), Lookup::New);
    }
}
