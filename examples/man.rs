//! Prints the man page, made from the option table (src/cli/man.rs):
//! `cargo run --example man > patroni_barman.1` (`make man`).

fn main() {
    print!("{}", patroni_barman::cli::man_page());
}
