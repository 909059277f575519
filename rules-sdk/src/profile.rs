//! Behaviour profiles for anomaly rules: how often each value of a feature (user agent,
//! network, verb + resource, namespace, image...) was seen for a subject (a user in a
//! cluster, or the cluster), kept in the rule's state store so profiles survive reloads
//! and restarts.
//!
//! **Bounded.** A profile keeps at most [`MAX_VALUES`] values; when a new value arrives at
//! a full profile, the value seen least often (the least recently seen among equals) is
//! forgotten. The total keeps counting, so forgetting a rare value makes it look as rare
//! as it was. A profile is at most a few KiB; a rule bounds its number of profiles by the
//! subjects it keys them by, and the state store caps keys per rule.
//!
//! **Scoring.** The probability that a subject's next value is `v` is estimated with
//! Witten–Bell smoothing: a value seen `c(v)` times has `p(v) = c(v) / (N + K)`, where `N` is
//! the total and `K` the number of distinct values, and the rest, the escape probability
//! `K / (N + K)`, is how often the subject has shown something new so far. A value never
//! seen gets that escape probability split `K + 1` ways, so it is always less likely than
//! a value seen once. Surprise is `-log2 p(v)` bits: a new value from a subject that has
//! always used one value scores high; a new value from a subject that varies a lot, low. A rule adds the
//! surprises of the features it looks at and flags an operation whose total passes its
//! threshold, after the subject's learning period.

use crate::state;

/// Most values a profile remembers, unless told otherwise.
pub const MAX_VALUES: usize = 64;
/// Most values a stored profile may hold (a larger count means the bytes are not one).
const MAX_DECODED_VALUES: usize = 1 << 16;

/// One remembered value: how often and when last seen (microseconds since the epoch).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seen {
    pub value: String,
    pub count: u64,
    pub last_seen: i64,
}

/// How often each value of one feature was seen for one subject.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Frequencies {
    /// Observations, including those of values since forgotten.
    pub total: u64,
    /// When the first observation was made.
    pub first_seen: i64,
    pub values: Vec<Seen>,
}

impl Frequencies {
    /// The profile stored under `key`, or an empty one.
    pub fn load(key: &str) -> Self {
        state::get(key)
            .and_then(|bytes| Self::decode(&bytes))
            .unwrap_or_default()
    }

    /// Stores the profile under `key`.
    pub fn save(&self, key: &str) -> Result<(), state::StateError> {
        state::set(key, &self.encode())
    }

    /// Whether `value` is remembered (seen, or tracked).
    pub fn contains(&self, value: &str) -> bool {
        self.values.iter().any(|s| s.value == value)
    }

    /// How often `value` was seen (0 if never, or forgotten).
    pub fn count(&self, value: &str) -> u64 {
        self.values
            .iter()
            .find(|s| s.value == value)
            .map_or(0, |s| s.count)
    }

    /// Counts one observation of `value` at `at` (microseconds since the epoch),
    /// remembering at most [`MAX_VALUES`] values.
    pub fn observe(&mut self, value: &str, at: i64) {
        self.observe_within(value, at, MAX_VALUES);
    }

    /// Counts one observation of `value` at `at`, remembering at most `capacity` values:
    /// a new value at a full profile forgets the value seen least often (the least
    /// recently seen among equals), which is returned.
    pub fn observe_within(&mut self, value: &str, at: i64, capacity: usize) -> Option<String> {
        if self.total == 0 {
            self.first_seen = at;
        }
        self.total += 1;
        self.remember(value, at, capacity, 1)
    }

    /// Remembers `value` as met at `at` without counting an observation of it: it stays
    /// unseen to scoring, and is among the first forgotten when the profile is full. For
    /// keeping track of a subject (a user whose operations were all anomalous) that must
    /// not yet count as known.
    pub fn track_within(&mut self, value: &str, at: i64, capacity: usize) -> Option<String> {
        self.remember(value, at, capacity, 0)
    }

    fn remember(&mut self, value: &str, at: i64, capacity: usize, count: u64) -> Option<String> {
        if let Some(seen) = self.values.iter_mut().find(|s| s.value == value) {
            seen.count += count;
            seen.last_seen = seen.last_seen.max(at);
            return None;
        }
        let mut forgotten = None;
        if self.values.len() >= capacity.max(1)
            && let Some(rarest) = self
                .values
                .iter()
                .enumerate()
                .min_by_key(|(_, s)| (s.count, s.last_seen))
                .map(|(i, _)| i)
        {
            forgotten = Some(self.values.swap_remove(rarest).value);
        }
        self.values.push(Seen {
            value: value.to_string(),
            count,
            last_seen: at,
        });
        forgotten
    }

    /// Forgets all but the `n` values seen most often.
    pub fn keep_most_frequent(&mut self, n: usize) {
        self.values
            .sort_by(|a, b| b.count.cmp(&a.count).then(b.last_seen.cmp(&a.last_seen)));
        self.values.truncate(n);
    }

    /// The smoothed probability that the next value is `value` (1 for an empty profile,
    /// which knows nothing).
    pub fn probability(&self, value: &str) -> f64 {
        if self.total == 0 {
            return 1.0;
        }
        let distinct = self.values.iter().filter(|s| s.count > 0).count().max(1) as f64;
        let total = self.total as f64 + distinct;
        match self.count(value) {
            0 => distinct / total / (distinct + 1.0),
            n => n as f64 / total,
        }
    }

    /// The surprise of seeing `value`, in bits.
    pub fn surprise(&self, value: &str) -> f64 {
        -self.probability(value).log2()
    }

    /// How far `value` is from this subject's routine, in bits. A value never seen
    /// scores the Witten–Bell surprise of a new value, `-log2(K / (N + K) / (K + 1))`:
    /// high for a steady subject, lower for one that often shows something new. A value
    /// seen `c` times scores `log2(saturation / c)`, down to 0 once it has been seen
    /// `saturation` times: a weekly habit is as routine as an hourly one, and a subject
    /// that spreads its work over several values is not surprising in any of them.
    pub fn novelty(&self, value: &str, saturation: u64) -> f64 {
        if self.total == 0 {
            return 0.0;
        }
        match self.count(value) {
            0 => -self.probability(value).log2(),
            n => (saturation.max(1) as f64 / n.min(saturation) as f64).log2(),
        }
    }

    /// The values seen most often, most frequent first: the profile a finding shows.
    pub fn top(&self, n: usize) -> Vec<&Seen> {
        let mut seen: Vec<&Seen> = self.values.iter().collect();
        seen.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
        seen.truncate(n);
        seen
    }

    /// Whether the profile has learned enough to judge by: at least `min_events`
    /// observations spanning at least `min_span` microseconds up to `now`.
    pub fn is_learned(&self, min_events: u64, min_span: i64, now: i64) -> bool {
        self.total >= min_events && now.saturating_sub(self.first_seen) >= min_span
    }

    /// Compact bytes: the total, the first-seen time, then each value (count, last
    /// seen, length, UTF-8 bytes), little-endian.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(20 + self.values.len() * 32);
        out.extend_from_slice(&self.total.to_le_bytes());
        out.extend_from_slice(&self.first_seen.to_le_bytes());
        out.extend_from_slice(&(self.values.len() as u32).to_le_bytes());
        for s in &self.values {
            out.extend_from_slice(&s.count.to_le_bytes());
            out.extend_from_slice(&s.last_seen.to_le_bytes());
            out.extend_from_slice(&(s.value.len() as u32).to_le_bytes());
            out.extend_from_slice(s.value.as_bytes());
        }
        out
    }

    /// The profile [`Frequencies::encode`] wrote, or `None` if the bytes are not one.
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        let mut at = 0;
        let mut take = |n: usize| {
            let slice = bytes.get(at..at + n)?;
            at += n;
            Some(slice)
        };
        let u64_of = |b: &[u8]| u64::from_le_bytes(b.try_into().unwrap());
        let total = u64_of(take(8)?);
        let first_seen = u64_of(take(8)?) as i64;
        let n = u32::from_le_bytes(take(4)?.try_into().unwrap()) as usize;
        if n > MAX_DECODED_VALUES {
            return None;
        }
        let mut values = Vec::with_capacity(n);
        for _ in 0..n {
            let count = u64_of(take(8)?);
            let last_seen = u64_of(take(8)?) as i64;
            let len = u32::from_le_bytes(take(4)?.try_into().unwrap()) as usize;
            let value = String::from_utf8(take(len)?.to_vec()).ok()?;
            values.push(Seen {
                value,
                count,
                last_seen,
            });
        }
        (at == bytes.len()).then_some(Frequencies {
            total,
            first_seen,
            values,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(values: &[(&str, u64)]) -> Frequencies {
        let mut f = Frequencies::default();
        let mut t = 0;
        for (v, n) in values {
            for _ in 0..*n {
                t += 1;
                f.observe(v, t);
            }
        }
        f
    }

    #[test]
    fn unseen_values_surprise_more_than_rare_ones_and_rare_more_than_frequent() {
        let f = seen(&[("kubectl", 50), ("helm", 2)]);
        assert!(f.surprise("curl") > f.surprise("helm"));
        assert!(f.surprise("helm") > f.surprise("kubectl"));
        // A subject that always does one thing is surprised more by something new than
        // a subject that does many things.
        let varied = seen(&[("a", 10), ("b", 10), ("c", 10), ("d", 10), ("e", 12)]);
        let steady = seen(&[("a", 52)]);
        assert!(steady.surprise("new") > varied.surprise("new"));
        assert!((f.probability("kubectl") - 50.0 / 54.0).abs() < 1e-9);
        assert!((f.probability("curl") - 2.0 / 54.0 / 3.0).abs() < 1e-9);
        assert_eq!(Frequencies::default().surprise("anything"), 0.0);
    }

    #[test]
    fn novelty_is_high_for_new_values_of_steady_subjects_and_zero_for_routine_ones() {
        let f = seen(&[("hourly", 5000), ("weekly", 40), ("once", 1)]);
        assert_eq!(f.novelty("weekly", 16), 0.0);
        assert_eq!(f.novelty("once", 16), 4.0);
        assert!(f.novelty("never", 16) > 10.0);
        let varied = seen(&[("a", 20), ("b", 20), ("c", 20), ("d", 20), ("e", 20)]);
        assert_eq!(varied.novelty("c", 16), 0.0);
        assert!(f.novelty("never", 16) > varied.novelty("never", 16));
        assert_eq!(Frequencies::default().novelty("x", 16), 0.0);
    }

    #[test]
    fn a_full_profile_forgets_its_rarest_value_and_stays_bounded() {
        let mut f = Frequencies::default();
        for i in 0..MAX_VALUES {
            f.observe(&format!("v{i}"), i as i64);
            f.observe(&format!("v{i}"), i as i64);
        }
        f.observe("v0", 1000);
        f.observe("once", 2000);
        assert_eq!(f.values.len(), MAX_VALUES);
        assert_eq!(f.count("once"), 1);
        assert_eq!(f.count("v1"), 0, "the least seen, least recent value went");
        assert_eq!(f.count("v0"), 3);
        assert_eq!(f.total, 2 * MAX_VALUES as u64 + 2);
        f.observe("another", 3000);
        assert_eq!(
            f.count("once"),
            0,
            "a value seen once goes before those seen twice"
        );
        assert_eq!(f.values.len(), MAX_VALUES);
    }

    #[test]
    fn a_tracked_value_stays_unseen_and_is_forgotten_first() {
        let mut f = seen(&[("alice", 3), ("bob", 1)]);
        let before = f.novelty("mallory", 8);
        assert_eq!(f.track_within("mallory", 10, 3), None);
        assert_eq!(f.track_within("mallory", 11, 3), None);
        assert_eq!((f.count("mallory"), f.total), (0, 4));
        assert_eq!(f.novelty("mallory", 8), before, "tracking teaches nothing");
        assert_eq!(f.observe_within("carol", 12, 3).as_deref(), Some("mallory"));
        assert_eq!(f.count("bob"), 1);
    }

    #[test]
    fn profiles_round_trip_through_the_state_store() {
        state::clear();
        let f = seen(&[
            ("get pods", 7),
            ("list secrets", 1),
            ("ünïcode\tvalue\n", 2),
        ]);
        f.save("profile/alice").unwrap();
        assert_eq!(Frequencies::load("profile/alice"), f);
        assert_eq!(Frequencies::load("profile/nobody"), Frequencies::default());
        assert_eq!(Frequencies::decode(&f.encode()[..10]), None);
        let mut longer = f.encode();
        longer.push(0);
        assert_eq!(Frequencies::decode(&longer), None);
    }

    #[test]
    fn learning_needs_both_events_and_time() {
        let f = seen(&[("a", 100)]);
        assert!(f.is_learned(100, 50, 101));
        assert!(!f.is_learned(101, 0, 101), "too few events");
        assert!(!f.is_learned(10, 1000, 101), "too short a span");
        assert_eq!(f.top(1)[0].value, "a");
    }
}
