//! Times the walk that recover's progress lines make of a data directory
//! (src/jobs/recover/disk.rs): `cargo run --release --example walk -- DIR
//! [RUNS]` prints the bytes found and each run's wall time (`make bench`).

use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().expect("usage: walk DIR [RUNS]");
    let runs: u32 = args
        .next()
        .map_or(5, |n| n.parse().expect("RUNS: a number"));
    for _ in 0..runs {
        let started = Instant::now();
        let bytes = patroni_barman::fuzzing::bytes_under(std::path::Path::new(&dir));
        println!("{bytes} bytes in {} ms", started.elapsed().as_millis());
    }
}
