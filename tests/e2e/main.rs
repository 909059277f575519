//! Peregrine end to end: real wasm modules, real audit logs, the real command line and
//! server, a real PostgreSQL. One module per area; run one with
//! `cargo test -p peregrine-e2e --test e2e <area>::`.

mod anomaly;
mod api;
mod authoring;
mod cli;
mod durability;
mod follow;
mod hardening;
mod ingest;
mod intel;
mod isolation;
mod live;
mod polyglot;
mod runtime;
mod scan;
mod serve;
mod store;
