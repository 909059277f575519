//! Threat-list load time and lookup rate for a list of 1,000,000 entries.
//! Run: `cargo bench -p peregrine --bench intel_load`

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Instant;

use peregrine::intel::ThreatLists;
use peregrine_rules_sdk::testing::event;

fn main() {
    const ENTRIES: u32 = 1_000_000;
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("custom")).unwrap();
    let mut file =
        std::io::BufWriter::new(std::fs::File::create(dir.path().join("custom/big.txt")).unwrap());
    // Spread addresses over public space; every 10th entry is a /24.
    let mut x: u32 = 0x9e37_79b9;
    for i in 0..ENTRIES {
        x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        let ip = Ipv4Addr::from(x | 0x0100_0000);
        if i % 10 == 0 {
            writeln!(file, "{ip}/24").unwrap()
        } else {
            writeln!(file, "{ip}").unwrap()
        }
    }
    file.flush().unwrap();
    drop(file);

    let started = Instant::now();
    let (intel, warnings) = ThreatLists::load_dir(dir.path()).unwrap();
    let load = started.elapsed();
    let list = &intel.lists[0];
    println!(
        "intel load: {} entries ({} merged ranges, {} warnings) in {:.3} s",
        list.entries,
        list.set.counts().0,
        warnings.len(),
        load.as_secs_f64()
    );

    let lookups = 2_000_000u32;
    let started = Instant::now();
    let mut hits = 0u32;
    for i in 0..lookups {
        let ip = IpAddr::V4(Ipv4Addr::from(i.wrapping_mul(2_654_435_761)));
        hits += list.set.contains_ip(ip) as u32;
    }
    let elapsed = started.elapsed();
    println!(
        "intel lookup: {:.1} M lookups/s ({:.0} ns each, {hits} hits)",
        f64::from(lookups) / elapsed.as_secs_f64() / 1e6,
        elapsed.as_nanos() as f64 / f64::from(lookups)
    );

    let mut e =
        event(r#"{"verb":"get","requestURI":"/api","sourceIPs":["10.0.0.1","203.0.113.77"]}"#);
    let started = Instant::now();
    for _ in 0..200_000 {
        e.source_ips
            .iter_mut()
            .for_each(|ip| ip.threat_lists.clear());
        intel.enrich(&mut e);
    }
    println!(
        "event enrichment: {:.0} ns per event (2 source IPs)",
        started.elapsed().as_nanos() as f64 / 200_000.0
    );
}
