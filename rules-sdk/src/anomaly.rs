//! Anomaly detection for the `AnomalousBehavior` rules: learn what each user of each
//! cluster normally does when performing one kind of operation (reading secrets, exec
//! into pods, deploying workloads...), and flag an operation that is unusual for both.
//!
//! **What is learned.** For every operation of its kind a rule takes [`Features`]: the
//! caller's network (`/24` of IPv4, `/48` of IPv6), user agent reduced to product and
//! platform (so upgrades are not news), the operation (verb, resource and namespace), and
//! the features of
//! its kind (images, role, permission...). It keeps frequency profiles of them
//! ([`Frequencies`]) for the user and for the cluster, and which users of the cluster
//! perform the operation, in its own state store: they survive reloads and restarts.
//!
//! **How an operation is scored.** Each feature's value has a surprise, `-log2 p`, under
//! the Witten–Bell estimate of a profile: a value seen `c` times has `p = c / (N + K)`
//! (`N` observations, `K` distinct values), an unseen one shares the escape probability
//! `K / (N + K)` with the values yet to come, so a new value from a steady subject is
//! surprising and from a varied one less so. Counts saturate at [`SATURATION`] (a value
//! seen that often is routine, however much more often others are seen), and a surprise
//! is capped at [`SURPRISE_CAP`] bits so that no single feature decides alone. A value
//! counts when it is unusual for the user *and* for the cluster: the smaller of the two
//! surprises, weighted by how well the user is known (from 0 for a user never seen doing
//! this, when the cluster's surprise stands in, to 1 after [`USER_WEIGHT_AT`]
//! operations); the user feature (is this user one who does this here?) counts with the
//! remaining weight. The score is the sum over features, in bits: a new network alone
//! (travel) or a new agent alone stays under the threshold; a new network with a new
//! agent passes it. An operation the rule calls flaggable is flagged when its score
//! reaches the threshold, once the cluster's learning period is over. Every operation is
//! learned, flagged or not.
//!
//! **Bounds.** Per rule and cluster: a user list of at most [`MAX_USERS`] users (fewer if
//! their names are long; rarest, least recent forgotten first, with their profiles), one cluster profile and
//! one profile per listed user, each feature holding at most [`FEATURE_VALUES`] values of
//! at most [`MAX_VALUE_LEN`] bytes. A profile is usually well under 1 KiB, at most about
//! 40 KiB; so at most about 40 MiB per rule and cluster in the worst case.
//!
//! **Settings** (`--rule-setting NAME=VALUE`, for every anomaly rule):
//! `anomaly.learning-events` (default 20) and `anomaly.learning-hours` (default 48): the
//! cluster's learning period, operations of the kind seen and time since the first;
//! `anomaly.threshold` (default 11 bits).

use crate::profile::Frequencies;
use crate::{AnomalyFeature, AnomalyObject, AuditEvent, Finding, settings, state};

/// Most bits one feature adds to a score.
pub const SURPRISE_CAP: f64 = 8.0;
/// The score, in bits, at which a flaggable operation is flagged.
pub const DEFAULT_THRESHOLD: f64 = 11.0;
pub const DEFAULT_LEARNING_EVENTS: u64 = 20;
pub const DEFAULT_LEARNING_HOURS: f64 = 48.0;
/// Operations after which the user's own profile has its full weight.
pub const USER_WEIGHT_AT: u64 = 20;
/// Observations after which a value is fully part of a routine
/// ([`Frequencies::novelty`]).
pub const SATURATION: u64 = 8;
/// Times a value must be flagged before it joins the user's profile.
pub const PROMOTE_AFTER: u64 = 5;
/// Users remembered per cluster and rule.
pub const MAX_USERS: usize = 1024;
/// Values remembered per feature and profile.
pub const FEATURE_VALUES: usize = 32;
/// Longest value remembered, in bytes; longer ones are cut.
pub const MAX_VALUE_LEN: usize = 128;
/// A feature whose surprise passes this many bits is named in the finding.
const UNUSUAL_BITS: f64 = 2.0;
/// Most bytes a stored profile may take (the state store takes 64 KiB a value).
const MAX_PROFILE_BYTES: usize = 60 * 1024;
const SEP: char = '\u{1f}';

/// The feature names the user list is kept under.
pub const USER: &str = "user";

/// The features of one operation, by name.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Features(pub Vec<(&'static str, String)>);

impl Features {
    /// The features every operation has: network, user agent, and the operation (verb,
    /// resource and namespace).
    pub fn of(event: &AuditEvent) -> Self {
        let resource = match (event.resource(), event.subresource()) {
            (Some(r), Some(s)) => format!("{r}/{s}"),
            (Some(r), None) => r.to_string(),
            (None, _) => event.path().to_string(),
        };
        Features(vec![
            ("network", network(event)),
            (
                "userAgent",
                agent_family(event.user_agent.as_deref().unwrap_or("")),
            ),
            // One feature, not two: a new kind of object often means a new namespace too
            // (cluster-scoped ones have none), and that is one new thing, not two.
            (
                "operation",
                format!(
                    "{} {resource} in {}",
                    event.verb,
                    event.namespace().unwrap_or("(cluster)")
                ),
            ),
        ])
    }

    pub fn with(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.0.push((name, value.into()));
        self
    }
}

/// The caller's network: the `/24` of an IPv4 address, the `/48` of an IPv6 one.
pub fn network(event: &AuditEvent) -> String {
    let Some(ip) = event.caller_ip() else {
        return "(none)".into();
    };
    match ip.address.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(v4)) => {
            let [a, b, c, _] = v4.octets();
            format!("{a}.{b}.{c}.0/24")
        }
        Ok(std::net::IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2])
        }
        Err(_) => ip.address.clone(),
    }
}

/// A user agent without versions: its product and platform, e.g. `kubectl (linux/amd64)`
/// for `kubectl/v1.29.2 (linux/amd64) kubernetes/4b8e819`.
pub fn agent_family(agent: &str) -> String {
    let product = agent
        .split(|c: char| c == '/' || c.is_whitespace())
        .next()
        .unwrap_or("");
    let platform = agent
        .split_once('(')
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(inside, _)| inside.split(';').next().unwrap_or("").trim());
    match (product, platform) {
        ("", _) => "(none)".into(),
        (p, Some(os)) if !os.is_empty() => format!("{p} ({os})"),
        (p, _) => p.to_string(),
    }
}

/// An image without its tag or digest: `registry:5000/team/app` for
/// `registry:5000/team/app:1.2@sha256:...`.
pub fn image_repository(image: &str) -> &str {
    let image = image.split('@').next().unwrap_or(image);
    match image.rfind(':') {
        Some(colon) if !image[colon..].contains('/') => &image[..colon],
        _ => image,
    }
}

/// The workload a judgeable event wrote and its features, with `image`: the sorted
/// repositories of its images. `None` for events the workload rules do not judge (a
/// patch that carries no containers among them).
pub fn workload_features(event: &AuditEvent) -> Option<(&crate::Workload, Features)> {
    if !judgeable(event) {
        return None;
    }
    let workload = event.workload()?;
    if workload.containers.is_empty() {
        return None;
    }
    let mut repositories: Vec<&str> = workload
        .containers
        .iter()
        .map(|c| image_repository(&c.image))
        .collect();
    repositories.sort_unstable();
    repositories.dedup();
    Some((
        workload,
        Features::of(event).with("image", repositories.join(",")),
    ))
}

/// Whether the anomaly rules judge the event at all: a call that was not refused, by an
/// authenticated user (anonymous calls have findings of their own).
pub fn judgeable(event: &AuditEvent) -> bool {
    !event.refused() && !event.is_anonymous()
}

/// The rule's settings, read from the host.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    pub threshold: f64,
    pub learning_events: u64,
    pub learning_micros: i64,
}

impl Settings {
    pub fn from_host() -> Self {
        Settings {
            threshold: settings::number("anomaly.threshold", DEFAULT_THRESHOLD),
            learning_events: settings::number(
                "anomaly.learning-events",
                DEFAULT_LEARNING_EVENTS as f64,
            )
            .max(0.0) as u64,
            learning_micros: (settings::number("anomaly.learning-hours", DEFAULT_LEARNING_HOURS)
                .max(0.0)
                * 3_600_000_000.0) as i64,
        }
    }
}

/// A subject's profiles, one per feature, and how many operations they hold.
#[derive(Clone, Debug, Default, PartialEq)]
struct Profile {
    operations: u64,
    first_seen: i64,
    features: Vec<(String, Frequencies)>,
}

impl Profile {
    fn save(&mut self, key: &str) {
        let mut bytes = self.encode();
        // Long values could make a profile too large to store: keep fewer of them.
        while bytes.len() > MAX_PROFILE_BYTES {
            let most = self
                .features
                .iter()
                .map(|(_, f)| f.values.len())
                .max()
                .unwrap_or(0);
            if most <= 1 {
                break;
            }
            for (_, f) in &mut self.features {
                f.keep_most_frequent(most / 2);
            }
            bytes = self.encode();
        }
        if state::set(key, &bytes).is_err() {
            crate::log::warn("anomaly profile not saved: the rule's state store is full");
        }
    }

    fn feature(&self, name: &str) -> Option<&Frequencies> {
        self.features
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, f)| f)
    }

    fn learn(&mut self, features: &Features, at: i64) {
        if self.operations == 0 {
            self.first_seen = at;
        }
        self.operations += 1;
        for (name, value) in &features.0 {
            self.observe(name, value, at, 1);
        }
    }

    /// Counts `times` observations of one feature's value.
    fn observe(&mut self, name: &str, value: &str, at: i64, times: u64) {
        let index = match self.features.iter().position(|(n, _)| n == name) {
            Some(i) => i,
            None => {
                self.features
                    .push((name.to_string(), Frequencies::default()));
                self.features.len() - 1
            }
        };
        for _ in 0..times {
            self.features[index]
                .1
                .observe_within(value, at, FEATURE_VALUES);
        }
    }

    /// Adds what `now` observed beyond `base` (the same profile, read earlier).
    fn add_observations(&mut self, now: &Profile, base: &Profile) {
        let added = now.operations.saturating_sub(base.operations);
        if self.operations == 0 && added > 0 {
            self.first_seen = now.first_seen;
        }
        self.operations += added;
        for (name, f) in &now.features {
            let before = base.feature(name);
            for seen in &f.values {
                let n = seen
                    .count
                    .saturating_sub(before.map_or(0, |b| b.count(&seen.value)));
                self.observe(name, &seen.value, seen.last_seen, n);
            }
        }
    }

    /// Forgets one feature's value.
    fn forget(&mut self, name: &str, value: &str) {
        if let Some((_, f)) = self.features.iter_mut().find(|(n, _)| n == name) {
            let count = f.count(value);
            f.values.retain(|s| s.value != value);
            f.total -= count.min(f.total);
        }
    }

    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&self.operations.to_le_bytes());
        out.extend_from_slice(&self.first_seen.to_le_bytes());
        for (name, f) in &self.features {
            let bytes = f.encode();
            out.extend_from_slice(&(name.len() as u32).to_le_bytes());
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
            out.extend_from_slice(&bytes);
        }
        out
    }

    fn decode(bytes: &[u8]) -> Option<Self> {
        let mut rest = bytes;
        let mut take = |n: usize| {
            let (head, tail) = rest.split_at_checked(n)?;
            rest = tail;
            Some(head)
        };
        let operations = u64::from_le_bytes(take(8)?.try_into().ok()?);
        let first_seen = i64::from_le_bytes(take(8)?.try_into().ok()?);
        let mut features = Vec::new();
        while let Some(len) = take(4) {
            let len = u32::from_le_bytes(len.try_into().ok()?) as usize;
            let name = String::from_utf8(take(len)?.to_vec()).ok()?;
            let len = u32::from_le_bytes(take(4)?.try_into().ok()?) as usize;
            features.push((name, Frequencies::decode(take(len)?)?));
        }
        Some(Profile {
            operations,
            first_seen,
            features,
        })
    }
}

/// Why an operation was flagged.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    /// The operation's score and the threshold it reached, in bits.
    pub score: f64,
    pub threshold: f64,
    /// The unusual features, most surprising first: name, value seen, surprise in bits.
    pub unusual: Vec<(String, String, f64)>,
    /// `service.detection.anomaly`: each unusual feature against the user's and the
    /// cluster's profiles.
    pub explanation: Vec<AnomalyFeature>,
}

impl Verdict {
    /// "network 45.83.64.0/24, userAgent curl", for descriptions.
    pub fn summary(&self) -> String {
        self.unusual
            .iter()
            .map(|(name, value, _)| format!("{name} {value}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl Finding {
    /// Adds the verdict's explanation (`service.detection.anomaly`) and score.
    pub fn with_anomaly(mut self, verdict: Verdict) -> Self {
        self.additional_info
            .push(("anomalyScore".into(), format!("{:.1}", verdict.score)));
        self.additional_info.push((
            "anomalyThreshold".into(),
            format!("{:.1}", verdict.threshold),
        ));
        self.additional_info.push((
            "unusualFeatures".into(),
            verdict
                .unusual
                .iter()
                .map(|(name, _, bits)| format!("{name}={bits:.1}"))
                .collect::<Vec<_>>()
                .join(","),
        ));
        self.anomaly = verdict.explanation;
        self
    }
}

fn cut(value: &str) -> String {
    if value.len() <= MAX_VALUE_LEN {
        return value.to_string();
    }
    let mut end = MAX_VALUE_LEN;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    value[..end].to_string()
}

fn key(parts: &[&str]) -> String {
    parts.join(&SEP.to_string())
}

fn subtype(f: &Frequencies, count: u64) -> &'static str {
    let share = count as f64 / f.total.max(1) as f64;
    match count {
        0 => "UNSEEN",
        _ if share < 0.01 => "RARE",
        _ if share < 0.1 => "INFREQUENT",
        _ => "FREQUENT",
    }
}

/// The value seen, against a profile: the observation and the profile's top values.
fn explain(scope: &str, feature: &str, value: &str, f: &Frequencies) -> AnomalyFeature {
    let count = f.count(value);
    AnomalyFeature {
        scope: scope.into(),
        feature: feature.into(),
        unusual: AnomalyObject {
            profile_type: "FREQUENCY".into(),
            profile_subtype: subtype(f, count).into(),
            text: vec![value.to_string()],
            number: vec![count as i64, f.total as i64],
        },
        profile: f
            .top(5)
            .into_iter()
            .map(|s| AnomalyObject {
                profile_type: "FREQUENCY".into(),
                profile_subtype: subtype(f, s.count).into(),
                text: vec![s.value.clone()],
                number: vec![s.count as i64],
            })
            .collect(),
    }
}

fn capped(f: Option<&Frequencies>, value: &str) -> f64 {
    f.map_or(0.0, |f| f.novelty(value, SATURATION).min(SURPRISE_CAP))
}

/// Scores the operation against what was learned of its user and cluster, then learns
/// it unless it is anomalous (its score reaches the threshold after the cluster's
/// learning period). Returns a verdict when it is anomalous and `flaggable`.
pub fn judge(event: &AuditEvent, features: Features, flaggable: bool) -> Option<Verdict> {
    // The host's settings are fixed for the life of an instance: read them once.
    #[cfg(target_arch = "wasm32")]
    let settings = {
        static SETTINGS: std::sync::OnceLock<Settings> = std::sync::OnceLock::new();
        SETTINGS.get_or_init(Settings::from_host)
    };
    #[cfg(not(target_arch = "wasm32"))]
    let settings = &Settings::from_host();
    judge_with(settings, event, features, flaggable)
}

/// [`judge`] with the given settings.
pub fn judge_with(
    settings: &Settings,
    event: &AuditEvent,
    features: Features,
    flaggable: bool,
) -> Option<Verdict> {
    let features = Features(
        features
            .0
            .into_iter()
            .map(|(name, value)| (name, cut(&value)))
            .collect(),
    );
    let at = event
        .stage_at
        .or(event.request_received_at)
        .unwrap_or_default();
    let username = cut(event.username());
    let users_key = key(&["users", &event.cluster]);
    let cluster_key = key(&["cluster", &event.cluster]);
    let user_key = key(&["user", &event.cluster, &username]);
    let mut users = batch::take_users(&users_key);
    let mut cluster = batch::take_profile(&cluster_key);
    let mut user = batch::take_profile(&user_key);

    let learned = cluster.now.operations >= settings.learning_events
        && at.saturating_sub(cluster.now.first_seen) >= settings.learning_micros;
    // Every operation is scored, reported or not: an anomalous one is not learned.
    let verdict = learned
        .then(|| {
            score(
                settings,
                &users.now,
                &cluster.now,
                &user.now,
                &username,
                &features,
            )
        })
        .flatten();
    let anomalous = verdict.is_some();

    // Only ordinary operations make a user known; an anomalous one keeps the user on
    // the list (so their profiles stay bounded) as not yet seen.
    let forgotten = if anomalous {
        users.now.track_within(&username, at, MAX_USERS)
    } else {
        users.now.observe_within(&username, at, MAX_USERS)
    };
    if let Some(forgotten) = forgotten {
        forget_user(&event.cluster, &forgotten);
    }
    if !anomalous {
        cluster.now.learn(&features, at);
        user.now.learn(&features, at);
    } else {
        // An anomalous operation teaches nothing at once, so an intruder cannot make its
        // network and tools usual by returning now and then. Its values wait in the
        // user's pending profile and join the user's and the cluster's profiles once the
        // user has shown them in PROMOTE_AFTER anomalous operations: a lasting change of
        // habits stops being flagged.
        let pending_key = key(&["pending", &event.cluster, &username]);
        let mut pending = batch::take_profile(&pending_key);
        pending.now.learn(&features, at);
        for (name, value) in &features.0 {
            if pending
                .now
                .feature(name)
                .is_some_and(|f| f.count(value) >= PROMOTE_AFTER)
            {
                user.now.observe(name, value, at, PROMOTE_AFTER);
                cluster.now.observe(name, value, at, PROMOTE_AFTER);
                pending.now.forget(name, value);
            }
        }
        batch::put_profile(pending_key, pending);
    }
    batch::put_users(users_key, users, &event.cluster);
    batch::put_profile(cluster_key, cluster);
    batch::put_profile(user_key, user);
    verdict.filter(|_| flaggable)
}

/// Judges a batch as [`crate::evaluate_each`] does, keeping the profiles it touches in
/// memory for the batch and writing each back once at its end: an anomaly rule's
/// [`Rule::evaluate_batch`](crate::Rule::evaluate_batch).
pub fn evaluate_batch<R: crate::Rule>(events: &[crate::AuditEvent]) -> Vec<crate::Finding> {
    batch::begin();
    let findings = crate::evaluate_each::<R>(events);
    batch::end();
    findings
}

/// Profiles kept in guest memory while the host's batch of events is judged (one call
/// of the rule), so that a batch reads and writes each once instead of once an event.
/// Outside a batch (native tests calling `evaluate` directly), every access goes to the
/// state store.
///
/// A cluster's profile and user list are shared by the workers, which judge other users
/// at the same time: at the end of a batch, one that changed in the store meanwhile gets
/// this batch's observations added to it instead of being overwritten. A user's own
/// profiles are judged by one worker only (each user's events go to one worker).
pub mod batch {
    use std::cell::RefCell;
    use std::collections::HashMap;

    use super::Profile;
    use crate::profile::Frequencies;
    use crate::state;

    /// A stored value as read, and as it is now.
    pub(super) struct Cached<T> {
        read: Option<Vec<u8>>,
        pub(super) now: T,
    }

    impl<T: Default> Cached<T> {
        fn load(k: &str, decode: fn(&[u8]) -> Option<T>) -> Self {
            let read = state::get(k);
            let now = read.as_deref().and_then(decode).unwrap_or_default();
            Cached { read, now }
        }

        /// What to write back: `now`, or, if another worker changed the stored value
        /// since it was read, the stored value with `add(stored, now, as read)` adding
        /// this batch's observations to it.
        fn merged(
            self,
            k: &str,
            decode: fn(&[u8]) -> Option<T>,
            add: impl FnOnce(&mut T, &T, &T),
        ) -> T {
            let stored = state::get(k);
            if stored == self.read {
                return self.now;
            }
            let Some(mut fresh) = stored.as_deref().and_then(decode) else {
                return self.now;
            };
            let base = self.read.as_deref().and_then(decode).unwrap_or_default();
            add(&mut fresh, &self.now, &base);
            fresh
        }
    }

    #[derive(Default)]
    struct Batch {
        active: bool,
        profiles: HashMap<String, Cached<Profile>>,
        users: HashMap<String, (Cached<Frequencies>, String)>,
    }

    thread_local! {
        static BATCH: RefCell<Batch> = RefCell::default();
    }

    /// Starts keeping profiles in memory.
    pub fn begin() {
        BATCH.with(|b| b.borrow_mut().active = true);
    }

    /// Writes back every profile the batch changed, and stops keeping them.
    pub fn end() {
        let batch = BATCH.with(|b| std::mem::take(&mut *b.borrow_mut()));
        for (k, cached) in batch.profiles {
            write_profile(&k, cached);
        }
        for (k, (cached, cluster)) in batch.users {
            write_users(&k, cached, &cluster);
        }
    }

    fn active() -> bool {
        BATCH.with(|b| b.borrow().active)
    }

    pub(super) fn take_profile(k: &str) -> Cached<Profile> {
        BATCH
            .with(|b| b.borrow_mut().profiles.remove(k))
            .unwrap_or_else(|| Cached::load(k, Profile::decode))
    }

    pub(super) fn put_profile(k: String, cached: Cached<Profile>) {
        if active() {
            BATCH.with(|b| b.borrow_mut().profiles.insert(k, cached));
        } else {
            write_profile(&k, cached);
        }
    }

    pub(super) fn take_users(k: &str) -> Cached<Frequencies> {
        BATCH
            .with(|b| b.borrow_mut().users.remove(k))
            .map(|(cached, _)| cached)
            .unwrap_or_else(|| Cached::load(k, Frequencies::decode))
    }

    pub(super) fn put_users(k: String, cached: Cached<Frequencies>, cluster: &str) {
        if active() {
            BATCH.with(|b| {
                b.borrow_mut()
                    .users
                    .insert(k, (cached, cluster.to_string()))
            });
        } else {
            write_users(&k, cached, cluster);
        }
    }

    /// Forgets a stored profile, in memory and in the store.
    pub(super) fn delete(k: &str) {
        BATCH.with(|b| b.borrow_mut().profiles.remove(k));
        state::delete(k);
    }

    fn write_profile(k: &str, cached: Cached<Profile>) {
        let mut merged = cached.merged(k, Profile::decode, |fresh, now, base| {
            fresh.add_observations(now, base)
        });
        merged.save(k);
    }

    fn write_users(k: &str, cached: Cached<Frequencies>, cluster: &str) {
        let mut merged = cached.merged(k, Frequencies::decode, |fresh, now, base| {
            for seen in &now.values {
                let (at, capacity) = (seen.last_seen, super::MAX_USERS);
                if seen.count == 0 {
                    forget(fresh.track_within(&seen.value, at, capacity), cluster);
                }
                for _ in 0..seen.count.saturating_sub(base.count(&seen.value)) {
                    forget(fresh.observe_within(&seen.value, at, capacity), cluster);
                }
            }
        });
        super::save_users(&mut merged, k, cluster);
    }

    fn forget(gone: Option<String>, cluster: &str) {
        if let Some(name) = gone {
            super::forget_user(cluster, &name);
        }
    }
}

/// Forgets a user's profiles, once the user is off the cluster's user list.
fn forget_user(cluster: &str, name: &str) {
    batch::delete(&key(&["user", cluster, name]));
    batch::delete(&key(&["pending", cluster, name]));
}

/// Stores the user list, keeping it within what a state value holds: long names can make
/// fewer than [`MAX_USERS`] fit, and the rarest users go first, with their profiles.
fn save_users(users: &mut Frequencies, users_key: &str, cluster: &str) {
    let mut bytes = users.encode();
    while bytes.len() > MAX_PROFILE_BYTES {
        let before: Vec<String> = users.values.iter().map(|s| s.value.clone()).collect();
        users.keep_most_frequent(users.values.len() * 3 / 4);
        for name in before.iter().filter(|n| !users.contains(n)) {
            forget_user(cluster, name);
        }
        bytes = users.encode();
    }
    if state::set(users_key, &bytes).is_err() {
        crate::log::warn("anomaly user list not saved: the rule's state store is full");
    }
}

fn score(
    settings: &Settings,
    users: &Frequencies,
    cluster: &Profile,
    user: &Profile,
    username: &str,
    features: &Features,
) -> Option<Verdict> {
    let weight = user.operations.min(USER_WEIGHT_AT) as f64 / USER_WEIGHT_AT as f64;
    let mut parts: Vec<(String, String, f64)> = Vec::new();
    parts.push((
        USER.into(),
        username.to_string(),
        (1.0 - weight) * capped(Some(users), username),
    ));
    for (name, value) in &features.0 {
        let for_cluster = capped(cluster.feature(name), value);
        let for_both = capped(user.feature(name), value).min(for_cluster);
        let s = weight * for_both + (1.0 - weight) * for_cluster;
        parts.push((name.to_string(), value.clone(), s));
    }
    let total: f64 = parts.iter().map(|(_, _, s)| s).sum();
    if total < settings.threshold {
        return None;
    }
    let mut unusual: Vec<_> = parts
        .into_iter()
        .filter(|(_, _, s)| *s >= UNUSUAL_BITS)
        .collect();
    unusual.sort_by(|a, b| b.2.total_cmp(&a.2));
    let mut explanation = Vec::new();
    for (name, value, _) in &unusual {
        if name == USER {
            explanation.push(explain("cluster", USER, value, users));
            continue;
        }
        if let Some(f) = user.feature(name) {
            explanation.push(explain("user", name, value, f));
        }
        if let Some(f) = cluster.feature(name) {
            explanation.push(explain("cluster", name, value, f));
        }
    }
    Some(Verdict {
        score: total,
        threshold: settings.threshold,
        unusual,
        explanation,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agents_lose_their_versions_and_images_their_tags() {
        assert_eq!(
            agent_family("kubectl/v1.29.2 (linux/amd64) kubernetes/4b8e819"),
            "kubectl (linux/amd64)"
        );
        assert_eq!(agent_family("python-requests/2.31.0"), "python-requests");
        assert_eq!(
            agent_family("Mozilla/5.0 (Windows NT 10.0; Win64; x64)"),
            "Mozilla (Windows NT 10.0)"
        );
        assert_eq!(agent_family(""), "(none)");
        assert_eq!(image_repository("alpine:3.19"), "alpine");
        assert_eq!(
            image_repository("registry:5000/team/app:1.2@sha256:abc"),
            "registry:5000/team/app"
        );
        assert_eq!(
            image_repository("registry:5000/team/app"),
            "registry:5000/team/app"
        );
    }

    #[test]
    fn profiles_round_trip_and_refuse_junk() {
        let mut p = Profile::default();
        let f = Features(vec![
            ("network", "10.0.0.0/24".into()),
            ("image", "x".into()),
        ]);
        p.learn(&f, 5);
        p.learn(&f, 9);
        assert_eq!(Profile::decode(&p.encode()), Some(p.clone()));
        assert_eq!(p.operations, 2);
        assert_eq!(p.first_seen, 5);
        assert_eq!(Profile::decode(&p.encode()[..11]), None);
        assert_eq!(p.feature("image").unwrap().count("x"), 2);
    }

    #[test]
    fn a_user_list_of_long_names_stays_storable_and_forgets_the_rarest_with_their_profiles() {
        state::clear();
        let mut users = Frequencies::default();
        for i in 0..MAX_USERS {
            let name = format!("{i:0>120}");
            for _ in 0..(1 + i % 3) {
                users.observe_within(&name, i as i64, MAX_USERS);
            }
            state::set(&key(&["user", "c", &name]), b"profile").unwrap();
        }
        save_users(&mut users, "users", "c");
        let stored = Frequencies::decode(&state::get("users").unwrap()).unwrap();
        assert!(stored.values.len() < MAX_USERS && stored.values.len() > MAX_USERS / 4);
        assert!(
            stored.values.iter().all(|s| s.count >= 2),
            "the users seen once went first"
        );
        let kept = format!("{:0>120}", 2);
        assert!(state::contains(&key(&["user", "c", &kept])));
        assert!(!state::contains(&key(&[
            "user",
            "c",
            &format!("{:0>120}", 0)
        ])));
    }

    #[cfg(feature = "testing")]
    #[test]
    fn a_batch_adds_its_observations_to_a_cluster_profile_another_worker_changed() {
        use crate::testing::{Call, KUBECTL};
        state::clear();
        let call = |user: &str, ip: &str| {
            Call::new("get", user, ip, KUBECTL)
                .on("secrets", Some("web"), Some("a"))
                .event()
        };
        let features = |e: &AuditEvent| Features::of(e);
        let settings = Settings::from_host();
        let cluster_key = key(&["cluster", crate::testing::TEST_CLUSTER]);
        let e = call("alice", "198.51.100.21");
        judge_with(&settings, &e, features(&e), true);
        batch::begin();
        for _ in 0..3 {
            let e = call("alice", "198.51.100.21");
            judge_with(&settings, &e, features(&e), true);
        }
        // Meanwhile another worker judged bob and stored the cluster profile.
        let mut other = Profile::decode(&state::get(&cluster_key).unwrap()).unwrap();
        let b = call("bob", "203.0.113.9");
        other.learn(&features(&b), 0);
        other.save(&cluster_key);
        batch::end();
        let merged = Profile::decode(&state::get(&cluster_key).unwrap()).unwrap();
        assert_eq!(merged.operations, 5);
        let network = merged.feature("network").unwrap();
        assert_eq!(network.count("198.51.100.0/24"), 4);
        assert_eq!(network.count("203.0.113.0/24"), 1);
        // Without a concurrent change the batch's profile is written as it is.
        batch::begin();
        let e = call("alice", "198.51.100.21");
        judge_with(&settings, &e, features(&e), true);
        batch::end();
        let after = Profile::decode(&state::get(&cluster_key).unwrap()).unwrap();
        assert_eq!(after.operations, 6);
    }

    #[test]
    fn oversized_profiles_keep_their_most_frequent_values() {
        state::clear();
        let mut p = Profile::default();
        for i in 0..FEATURE_VALUES {
            for name in [
                "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n",
            ] {
                let f = Features(vec![(name, format!("{i:0>128}"))]);
                p.learn(&f, i as i64);
            }
        }
        p.save("big");
        let stored = state::get("big").unwrap();
        assert!(stored.len() <= MAX_PROFILE_BYTES, "{}", stored.len());
        assert!(Profile::decode(&stored).is_some());
    }
}
