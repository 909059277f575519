//! Whole-pipeline benchmarks: scan throughput against the parse floor, per-rule cost and
//! dispatch efficiency, the webhook under load with PostgreSQL, hot-reload latency and
//! peak memory. Prints every figure; asserts nothing. `cargo xtask bench` runs it.

mod runtime_workload;
mod search;
mod workload;

// The allocator the `peregrine` binary uses, so in-process figures match it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use peregrine::ingest::{self, Item};
use peregrine::scan::{self, ScanOptions};
use peregrine_rules_sdk::normalize::Normalizer;
use serde_json::Value;

struct Args {
    events: usize,
    rules: PathBuf,
    intel: PathBuf,
    peregrine: PathBuf,
    postgres: String,
    webhook_seconds: u64,
    webhook_clients: usize,
    skip_webhook: bool,
    search_findings: usize,
    only_search: bool,
    runtime_events: usize,
    only_runtime: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        events: 1_000_000,
        rules: "dist/rules".into(),
        intel: "samples/intel".into(),
        peregrine: "dist/peregrine".into(),
        postgres: std::env::var("PEREGRINE_TEST_POSTGRES")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into()),
        webhook_seconds: 10,
        webhook_clients: 4,
        skip_webhook: false,
        search_findings: 100_000,
        only_search: false,
        runtime_events: 500_000,
        only_runtime: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--events" => args.events = value()?.parse().map_err(|e| format!("--events: {e}"))?,
            "--rules" => args.rules = value()?.into(),
            "--intel" => args.intel = value()?.into(),
            "--peregrine" => args.peregrine = value()?.into(),
            "--postgres" => args.postgres = value()?,
            "--webhook-seconds" => {
                args.webhook_seconds = value()?.parse().map_err(|e| format!("{flag}: {e}"))?
            }
            "--webhook-clients" => {
                args.webhook_clients = value()?.parse().map_err(|e| format!("{flag}: {e}"))?
            }
            "--skip-webhook" => args.skip_webhook = true,
            "--search-findings" => {
                args.search_findings = value()?.parse().map_err(|e| format!("{flag}: {e}"))?
            }
            "--only-search" => args.only_search = true,
            "--runtime-events" => {
                args.runtime_events = value()?
                    .parse()
                    .map_err(|e| format!("--runtime-events: {e}"))?
            }
            "--only-runtime" => args.only_runtime = true,
            other => {
                return Err(format!(
                    "unknown argument {other}\nusage: peregrine-bench [--events N] [--rules DIR] [--intel DIR] \
                 [--peregrine BIN] [--postgres URL] [--webhook-seconds S] [--webhook-clients N] [--skip-webhook] \
                 [--search-findings N] [--only-search] [--runtime-events N] [--only-runtime]"
                ));
            }
        }
    }
    Ok(args)
}

fn main() {
    let args = match parse_args() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("peregrine-bench: {e}");
            std::process::exit(2);
        }
    };
    if let Err(e) = run(&args) {
        eprintln!("peregrine-bench: {e}");
        std::process::exit(1);
    }
}

fn run(args: &Args) -> Result<(), String> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("# Peregrine benchmarks");
    println!("machine: {cores} cores, {}", cpu_model());
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let log = dir.path().join("audit.jsonl");
    if args.only_search {
        // Templates for the stored findings, from a short workload.
        write_workload(&log, 50_000)?;
        let report = scan::run(
            &ScanOptions::new(&args.rules),
            std::slice::from_ref(&log),
            &mut |_| {},
        )
        .map_err(|e| e.to_string())?;
        return search_both(args, dir.path(), &report.findings);
    }
    if args.only_runtime {
        return runtime(args, dir.path());
    }
    let bytes = write_workload(&log, args.events)?;
    println!(
        "workload: {} events, {:.0} MiB, {} bytes per event on average (seeded generator, bench/src/workload.rs)",
        args.events,
        bytes as f64 / (1 << 20) as f64,
        bytes / args.events as u64
    );

    // The floor: read and normalize every event, no rules, no dispatch.
    let floor = time_floor(&log)?;
    println!(
        "\n## Scan throughput\nfloor (read + parse + normalize, one thread): {:.2}s, {:.0} events/s",
        floor.as_secs_f64(),
        args.events as f64 / floor.as_secs_f64()
    );
    let mut reports = Vec::new();
    for workers in [1, cores] {
        let mut options = ScanOptions::new(&args.rules);
        options.intel_dir = Some(args.intel.clone());
        options.workers = workers;
        options.engine.cache_dir = Some(dir.path().join("cache"));
        // Compile (and cache) before timing.
        scan::run(&options, &[], &mut |_| {}).map_err(|e| e.to_string())?;
        let report = scan::run(&options, std::slice::from_ref(&log), &mut |_| {})
            .map_err(|e| e.to_string())?;
        println!(
            "full pipeline, {} rules, {workers} worker{}{}: {:.2}s, {:.0} events/s, {} findings; ratio to the floor {:.2}x",
            report.rules.len(),
            if workers == 1 { "" } else { "s" },
            if workers == peregrine::pipeline::default_workers() {
                " (the default here)"
            } else {
                ""
            },
            report.elapsed.as_secs_f64(),
            report.events_per_second(),
            report.findings.iter().map(|f| f.service.count).sum::<u64>(),
            report.elapsed.as_secs_f64() / floor.as_secs_f64()
        );
        reports.push(report);
        if cores == 1 {
            break;
        }
    }
    println!(
        "peak RSS of this process (floor and scans): {} MiB",
        peak_rss_mib(std::process::id()).unwrap_or(0)
    );
    per_rule(reports.last().expect("a scan ran"));
    runtime(args, dir.path())?;

    if args.skip_webhook {
        println!("\n## Webhook\nskipped (--skip-webhook)");
    } else {
        webhook_and_reload(args, dir.path())?;
    }
    search_both(
        args,
        dir.path(),
        &reports.last().expect("a scan ran").findings,
    )
}

/// The search benchmark on SQLite, then on PostgreSQL unless `--skip-webhook`.
fn search_both(
    args: &Args,
    dir: &Path,
    templates: &[peregrine::findings::GuardDutyFinding],
) -> Result<(), String> {
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    println!(
        "\n## Search over {} stored findings (first page of 50, best of 3)",
        args.search_findings
    );
    let sqlite = format!("sqlite://{}?mode=rwc", dir.join("search.db").display());
    println!("SQLite:");
    runtime.block_on(search::search(&sqlite, templates, args.search_findings))?;
    if args.skip_webhook {
        return Ok(());
    }
    let name = format!("peregrine_bench_search_{}", std::process::id());
    let admin = args.postgres.clone();
    let admin_query = |sql: String| {
        let admin = admin.clone();
        async move {
            use sqlx::Connection;
            let mut c = sqlx::PgConnection::connect(&admin)
                .await
                .map_err(|e| format!("PostgreSQL at {admin}: {e}"))?;
            sqlx::query(&sql)
                .execute(&mut c)
                .await
                .map_err(|e| e.to_string())?;
            Ok::<_, String>(())
        }
    };
    runtime.block_on(admin_query(format!("CREATE DATABASE {name}")))?;
    println!("PostgreSQL:");
    let database = format!("{}/{name}", &admin[..admin.rfind('/').unwrap()]);
    let result = runtime.block_on(search::search(&database, templates, args.search_findings));
    let _ = runtime.block_on(admin_query(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )));
    result
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

fn write_workload(path: &Path, events: usize) -> Result<u64, String> {
    let file = std::fs::File::create(path).map_err(|e| e.to_string())?;
    let mut out = BufWriter::new(file);
    let mut workload = workload::Workload::new(42);
    let mut bytes = 0u64;
    for _ in 0..events {
        let line = workload.event().to_string();
        bytes += line.len() as u64 + 1;
        out.write_all(line.as_bytes()).map_err(|e| e.to_string())?;
        out.write_all(b"\n").map_err(|e| e.to_string())?;
    }
    out.flush().map_err(|e| e.to_string())?;
    Ok(bytes)
}

/// Runtime events: a Tetragon export judged by the whole rule set, against the floor of
/// merely reading and normalizing it.
fn runtime(args: &Args, dir: &Path) -> Result<(), String> {
    let log = dir.join("tetragon.log");
    let file = std::fs::File::create(&log).map_err(|e| e.to_string())?;
    let mut out = BufWriter::new(file);
    let mut workload = runtime_workload::RuntimeWorkload::new(42);
    let mut bytes = 0u64;
    for _ in 0..args.runtime_events {
        let line = workload.event().to_string();
        bytes += line.len() as u64 + 1;
        out.write_all(line.as_bytes()).map_err(|e| e.to_string())?;
        out.write_all(b"\n").map_err(|e| e.to_string())?;
    }
    out.flush().map_err(|e| e.to_string())?;
    println!(
        "\n## Runtime events\nworkload: {} Tetragon events, {:.0} MiB, {} bytes per event on average (seeded generator, bench/src/runtime_workload.rs)",
        args.runtime_events,
        bytes as f64 / (1 << 20) as f64,
        bytes / args.runtime_events.max(1) as u64
    );
    let normalizer = Normalizer::new("bench");
    let started = Instant::now();
    let mut events = 0u64;
    ingest::read_path(&log, &normalizer, &mut |item| {
        if let Item::Runtime(event, _) = item {
            events += 1;
            std::hint::black_box(event);
        }
    })
    .map_err(|e| e.to_string())?;
    let floor = started.elapsed();
    println!(
        "floor (read + parse + normalize, one thread): {:.2}s, {:.0} events/s",
        floor.as_secs_f64(),
        events as f64 / floor.as_secs_f64()
    );
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    for workers in [1, cores] {
        let mut options = ScanOptions::new(&args.rules);
        options.intel_dir = Some(args.intel.clone());
        options.workers = workers;
        options.engine.cache_dir = Some(dir.join("cache"));
        scan::run(&options, &[], &mut |_| {}).map_err(|e| e.to_string())?;
        let report = scan::run(&options, std::slice::from_ref(&log), &mut |_| {})
            .map_err(|e| e.to_string())?;
        let runtime_rules = report
            .rules
            .iter()
            .filter(|r| r.descriptor.runtime.is_some())
            .count();
        println!(
            "full pipeline, {} rules ({runtime_rules} taking runtime events), {workers} worker{}: {:.2}s, {:.0} events/s, {} findings; ratio to the floor {:.2}x",
            report.rules.len(),
            if workers == 1 { "" } else { "s" },
            report.elapsed.as_secs_f64(),
            report.events_per_second(),
            report.findings.iter().map(|f| f.service.count).sum::<u64>(),
            report.elapsed.as_secs_f64() / floor.as_secs_f64()
        );
        if cores == 1 {
            break;
        }
    }
    Ok(())
}

fn time_floor(log: &Path) -> Result<Duration, String> {
    let normalizer = Normalizer::new("bench");
    let started = Instant::now();
    let mut events = 0u64;
    ingest::read_path(log, &normalizer, &mut |item| {
        if let Item::Event(event, _) = item {
            events += 1;
            std::hint::black_box(event);
        }
    })
    .map_err(|e| e.to_string())?;
    let elapsed = started.elapsed();
    std::hint::black_box(events);
    Ok(elapsed)
}

fn per_rule(report: &scan::ScanReport) {
    println!("\n## Per-rule cost and dispatch");
    println!(
        "{:<50} {:>10} {:>9} {:>12}",
        "rule", "events", "calls", "ns/event"
    );
    let mut calls = 0u64;
    let mut delivered = 0u64;
    let mut rules: Vec<_> = report.rules.iter().collect();
    rules.sort_by_key(|r| std::cmp::Reverse(r.stats.busy_nanos.load(Ordering::Relaxed)));
    for rule in rules {
        let s = &rule.stats;
        let (events, c, nanos) = (
            s.evaluated.load(Ordering::Relaxed),
            s.calls.load(Ordering::Relaxed),
            s.busy_nanos.load(Ordering::Relaxed),
        );
        calls += c;
        delivered += events;
        println!(
            "{:<50} {:>10} {:>9} {:>12}",
            rule.name,
            events,
            c,
            if events == 0 {
                "-".to_string()
            } else {
                format!("{:.0}", nanos as f64 / events as f64)
            }
        );
    }
    let naive = report.events_judged * report.rules.len() as u64;
    println!(
        "dispatch: {} events x {} rules = {naive} event deliveries without subscriptions; {delivered} delivered ({:.2}%) in {calls} module calls ({:.3} calls per event)",
        report.events_judged,
        report.rules.len(),
        100.0 * delivered as f64 / naive.max(1) as f64,
        calls as f64 / report.events_judged.max(1) as f64
    );
}

/// A running `peregrine serve`.
struct Serve {
    child: Child,
    url: String,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const TOKEN: &str = "bench-admin-token";

fn start_serve(args: &Args, database: &str, rules: &Path, cache: &Path) -> Result<Serve, String> {
    use std::io::BufRead;
    let mut child = Command::new(&args.peregrine)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database-url",
            database,
            "--rules",
        ])
        .arg(rules)
        .arg("--intel")
        .arg(&args.intel)
        .arg("--cache-dir")
        .arg(cache)
        .arg("--workers")
        .arg(
            std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .to_string(),
        )
        .env("PEREGRINE_ADMIN_TOKENS", TOKEN)
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            format!(
                "cannot start {}: {e} (build it with `cargo xtask dist`)",
                args.peregrine.display()
            )
        })?;
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        if stderr.read_line(&mut line).map_err(|e| e.to_string())? == 0 {
            return Err("serve exited before listening".into());
        }
        if let Some(rest) = line.split("API on ").nth(1) {
            let url = rest.split("/v1/").next().unwrap().to_string();
            std::thread::spawn(move || for _ in stderr.lines() {});
            return Ok(Serve { child, url });
        }
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

fn webhook_and_reload(args: &Args, dir: &Path) -> Result<(), String> {
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    let name = format!("peregrine_bench_{}", std::process::id());
    let admin = args.postgres.clone();
    runtime.block_on(async {
        use sqlx::Connection;
        let mut c = sqlx::PgConnection::connect(&admin)
            .await
            .map_err(|e| format!("PostgreSQL at {admin}: {e}"))?;
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut c)
            .await
            .map_err(|e| e.to_string())?;
        Ok::<_, String>(())
    })?;
    let database = format!("{}/{name}", &admin[..admin.rfind('/').unwrap()]);
    let rules = dir.join("serve-rules");
    std::fs::create_dir_all(&rules).map_err(|e| e.to_string())?;
    for entry in std::fs::read_dir(&args.rules)
        .map_err(|e| e.to_string())?
        .flatten()
    {
        std::fs::copy(entry.path(), rules.join(entry.file_name())).map_err(|e| e.to_string())?;
    }
    let result = (|| {
        let serve = start_serve(args, &database, &rules, &dir.join("cache"))?;
        webhook(args, &serve)?;
        reload(&serve, &rules)?;
        println!(
            "\n## Memory\npeak RSS of serve ({} rules on {} workers, after the webhook run): {} MiB",
            rules_loaded(&serve),
            std::thread::available_parallelism().map_or(1, |n| n.get()),
            peak_rss_mib(serve.child.id()).unwrap_or(0)
        );
        Ok(())
    })();
    runtime.block_on(async {
        use sqlx::Connection;
        if let Ok(mut c) = sqlx::PgConnection::connect(&admin).await {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut c)
                .await;
        }
    });
    result
}

fn rules_loaded(serve: &Serve) -> usize {
    get_json(serve, "/v1/rules")["rules"]
        .as_array()
        .map_or(0, Vec::len)
}

fn get_json(serve: &Serve, path: &str) -> Value {
    agent()
        .get(format!("{}{path}", serve.url))
        .header("Authorization", format!("Bearer {TOKEN}"))
        .call()
        .ok()
        .and_then(|mut r| r.body_mut().read_to_string().ok())
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null)
}

fn webhook(args: &Args, serve: &Serve) -> Result<(), String> {
    println!(
        "\n## Webhook\n{} clients posting 100-event EventList batches on loopback for {}s, PostgreSQL store",
        args.webhook_clients, args.webhook_seconds
    );
    let deadline = Instant::now() + Duration::from_secs(args.webhook_seconds);
    let results: Vec<(Vec<Duration>, u64, u64)> = std::thread::scope(|scope| {
        let clients: Vec<_> = (0..args.webhook_clients)
            .map(|c| {
                scope.spawn(move || {
                    let mut workload = workload::Workload::new(1000 + c as u64);
                    let agent = agent();
                    let (mut latencies, mut events, mut refused) = (Vec::new(), 0u64, 0u64);
                    while Instant::now() < deadline {
                        let items: Vec<Value> = (0..100).map(|_| workload.event()).collect();
                        let body = serde_json::json!({"kind": "EventList", "apiVersion": "audit.k8s.io/v1", "metadata": {}, "items": items}).to_string();
                        let sent = Instant::now();
                        let status = agent
                            .post(format!("{}/v1/audit/bench", serve.url))
                            .header("Authorization", format!("Bearer {TOKEN}"))
                            .send(&body)
                            .map(|r| r.status().as_u16())
                            .unwrap_or(0);
                        if status == 200 {
                            latencies.push(sent.elapsed());
                            events += 100;
                        } else {
                            refused += 1;
                        }
                    }
                    (latencies, events, refused)
                })
            })
            .collect();
        clients.into_iter().map(|c| c.join().unwrap()).collect()
    });
    let mut latencies: Vec<Duration> = results.iter().flat_map(|r| r.0.iter().copied()).collect();
    let events: u64 = results.iter().map(|r| r.1).sum();
    let refused: u64 = results.iter().map(|r| r.2).sum();
    latencies.sort();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    println!(
        "sustained: {:.0} events/s ({} batches acknowledged, {refused} refused); acknowledgement latency p50 {:.1} ms, p99 {:.1} ms",
        events as f64 / args.webhook_seconds as f64,
        latencies.len(),
        pct(0.50).as_secs_f64() * 1000.0,
        pct(0.99).as_secs_f64() * 1000.0
    );
    Ok(())
}

fn reload(serve: &Serve, rules: &Path) -> Result<(), String> {
    // Land a module (a changed file: the same rule rewritten) by rename, as a deploy would,
    // and time until the new snapshot is the one judging events.
    let module = std::fs::read_dir(rules)
        .map_err(|e| e.to_string())?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "wasm"))
        .ok_or("no module to reload")?;
    let mut times = Vec::new();
    for _ in 0..5 {
        let before = get_json(serve, "/v1/rules")["generation"]
            .as_u64()
            .unwrap_or(0);
        let staged = rules.join(".staged.tmp");
        std::fs::copy(&module, &staged).map_err(|e| e.to_string())?;
        std::thread::sleep(Duration::from_millis(50));
        let landed = Instant::now();
        std::fs::rename(&staged, &module).map_err(|e| e.to_string())?;
        loop {
            if get_json(serve, "/v1/rules")["generation"]
                .as_u64()
                .unwrap_or(0)
                > before
            {
                break;
            }
            if landed.elapsed() > Duration::from_secs(30) {
                return Err("the reload never happened".into());
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        times.push(landed.elapsed());
        std::thread::sleep(Duration::from_millis(400));
    }
    times.sort();
    println!(
        "\n## Hot reload\nmodule file landing -> new version judging: median {:.0} ms over {} reloads (debounce 300 ms + compile or cache hit + swap)",
        times[times.len() / 2].as_secs_f64() * 1000.0,
        times.len()
    );
    Ok(())
}

/// VmHWM of a process, in MiB.
fn peak_rss_mib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}
