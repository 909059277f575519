//! Impact:Runtime/CryptoMinerExecuted: a process runs a crypto miner: a known miner's
//! executable (`xmrig`, `xmr-stak`, `cpuminer`, the Kinsing family's …), or any program
//! given a mining pool (`stratum+tcp://`) or options only miners take
//! (`peregrine_rules_sdk::commands::MINERS`). Searching or reading such words is not mining.
//! Fed by every sensor's exec events.

use peregrine_rules_sdk::commands::{miner_evidence, miner_subscription};
use peregrine_rules_sdk::runtime::Activity;
use peregrine_rules_sdk::*;

pub struct CryptoMinerExecuted;

impl Rule for CryptoMinerExecuted {
    fn descriptor() -> Descriptor {
        Descriptor::new(
            "Impact:Runtime/CryptoMinerExecuted",
            HIGH,
            "A process is running a cryptocurrency miner.",
            "A process ran a known miner, or was given a mining pool or miner-only options.",
        )
        .subscribe_runtime(miner_subscription())
    }

    fn evaluate_runtime(event: &RuntimeEvent) -> Option<Finding> {
        if !matches!(event.activity, Activity::Exec) {
            return None;
        }
        let evidence = miner_evidence(&event.process)?;
        Some(
            Finding::new(format!("{} is a crypto miner: {evidence}.", event.actor()))
                .with_aggregation_key(event.process.executable_path.clone())
                .with_info("evidence", evidence),
        )
    }
}

export_rule!(CryptoMinerExecuted);

#[cfg(test)]
mod tests {
    #[test]
    fn fixtures() {
        peregrine_rules_sdk::testing::check_runtime_fixtures::<super::CryptoMinerExecuted>();
    }
}
