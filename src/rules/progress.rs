//! The progress of a restore, as this host sees it: when to look at the
//! data directory again, and what the line says. Pure: the walk itself is
//! src/jobs/recover/disk.rs, the thread that runs it src/jobs/recover/progress.rs.

use std::time::Duration;

/// A walk may cost at most 1 % of one core: one that took `w` is followed
/// by a pause of at least 99 w, whatever the interval says.
pub const PAUSE_PER_WALK_TIME: u32 = 99;

/// The first line comes after half the interval (30 s of the default 60),
/// so that a restore that runs for minutes shows its pace early.
pub fn first_pause(interval: Duration) -> Duration {
    interval / 2
}

/// The pause after a walk that took `walk`.
pub fn pause_after(interval: Duration, walk: Duration) -> Duration {
    interval.max(walk * PAUSE_PER_WALK_TIME)
}

/// What one look at the directory saw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seen {
    pub bytes: u64,
    /// Since the watch started.
    pub at: Duration,
}

/// `Restore ID: 41.7 GiB of 120.3 GiB (35 %) in DIR, 212 MiB/s, about 6
/// min left`; without a total, `Restore ID: 41.7 GiB in DIR, 212 MiB/s`.
/// The rate is over the last interval (`before` to `now`). The share never
/// says 100 % before pg-backup-api says DONE: Barman copies WAL after the
/// base backup, and the total is the backup's size, not the restore's.
pub fn line(backup: &str, dir: &str, total: Option<u64>, before: Seen, now: Seen) -> String {
    let rate = rate(before, now);
    let mut text = format!("Restore {backup}: {}", size(now.bytes));
    if let Some(total) = total.filter(|t| *t > 0) {
        let share = (u128::from(now.bytes) * 100 / u128::from(total)).min(99);
        text += &format!(" of {} ({share} %)", size(total));
    }
    text += &format!(" in {dir}, {}/s", size_rounded(rate));
    if let Some(left) = total
        .filter(|t| *t > now.bytes && rate > 0)
        .map(|t| (t - now.bytes).div_ceil(rate))
    {
        text += &format!(", about {} left", time_left(left));
    }
    text
}

/// Bytes per second from `before` to `now`; zero when nothing grew.
fn rate(before: Seen, now: Seen) -> u64 {
    let grown = u128::from(now.bytes.saturating_sub(before.bytes));
    let millis = now.at.saturating_sub(before.at).as_millis().max(1);
    u64::try_from(grown * 1000 / millis).unwrap_or(u64::MAX)
}

const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/// `512 B`, `1.5 KiB`, `41.7 GiB`: one decimal, in integers (the binary
/// carries no float formatting).
pub fn size(bytes: u64) -> String {
    let (unit, tenths) = scaled(bytes);
    match unit {
        0 => format!("{bytes} B"),
        _ => format!("{}.{} {}", tenths / 10, tenths % 10, UNITS[unit]),
    }
}

/// As `size`, without the decimal from 10 on: `212 MiB`, `2.1 MiB`.
fn size_rounded(bytes: u64) -> String {
    let (unit, tenths) = scaled(bytes);
    match (unit, tenths) {
        (0, _) => format!("{bytes} B"),
        (_, 100..) => format!("{} {}", (tenths + 5) / 10, UNITS[unit]),
        _ => size(bytes),
    }
}

/// The unit `bytes` is shown in, and the value in tenths of it (rounded).
fn scaled(bytes: u64) -> (usize, u128) {
    let mut unit = 0;
    while unit + 1 < UNITS.len() && bytes >= 1 << (10 * (unit + 1)) {
        unit += 1;
    }
    let divisor = 1u128 << (10 * unit);
    (unit, (u128::from(bytes) * 10 + divisor / 2) / divisor)
}

/// `40 s`, `6 min`, `2 h 5 min`: rounded up to what the unit shows.
fn time_left(seconds: u64) -> String {
    match seconds {
        0..=59 => format!("{seconds} s"),
        60..=3599 => format!("{} min", seconds.div_ceil(60)),
        _ => {
            let minutes = seconds.div_ceil(60);
            format!("{} h {} min", minutes / 60, minutes % 60)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GIB: u64 = 1 << 30;
    const MIB: u64 = 1 << 20;

    fn seen(bytes: u64, secs: u64) -> Seen {
        Seen {
            bytes,
            at: Duration::from_secs(secs),
        }
    }

    #[test]
    fn a_line_with_a_total_says_share_rate_and_time_left() {
        let before = seen(41 * GIB - 212 * MIB * 60, 30);
        let now = seen(41 * GIB + 700 * MIB, 90);
        assert_eq!(
            line(
                "20261206T232544",
                "/var/lib/pg/data",
                Some(120 * GIB + 300 * MIB),
                before,
                now
            ),
            "Restore 20261206T232544: 41.7 GiB of 120.3 GiB (34 %) in /var/lib/pg/data, \
             224 MiB/s, about 6 min left"
        );
    }

    #[test]
    fn without_a_total_the_line_gives_bytes_and_rate() {
        let line = line("latest", "/d", None, seen(0, 0), seen(21 * MIB, 10));
        assert_eq!(line, "Restore latest: 21.0 MiB in /d, 2.1 MiB/s");
        let zero = super::line("x", "/d", Some(0), seen(0, 0), seen(5, 1));
        assert_eq!(zero, "Restore x: 5 B in /d, 5 B/s");
    }

    #[test]
    fn never_100_percent_before_done_and_no_time_left_when_nothing_grows() {
        let full = line("x", "/d", Some(GIB), seen(GIB, 0), seen(GIB + 1, 60));
        assert_eq!(full, "Restore x: 1.0 GiB of 1.0 GiB (99 %) in /d, 0 B/s");
        let shrunk = line("x", "/d", Some(GIB), seen(GIB / 2, 0), seen(GIB / 4, 60));
        assert_eq!(
            shrunk,
            "Restore x: 256.0 MiB of 1.0 GiB (25 %) in /d, 0 B/s"
        );
    }

    #[test]
    fn the_rate_is_over_the_last_interval() {
        // 10 GiB in the first minute, 1 GiB in the next one.
        let line = line("x", "/d", None, seen(10 * GIB, 60), seen(11 * GIB, 120));
        assert!(line.ends_with(", 17 MiB/s"), "{line}");
    }

    #[test]
    fn sizes_and_times_read_as_people_write_them() {
        assert_eq!(size(0), "0 B");
        assert_eq!(size(1023), "1023 B");
        assert_eq!(size(1536), "1.5 KiB");
        assert_eq!(size(u64::MAX), "16384.0 PiB");
        assert_eq!(size_rounded(212 * MIB + MIB / 3), "212 MiB");
        assert_eq!(size_rounded(10 * MIB - 1), "10 MiB");
        assert_eq!(time_left(59), "59 s");
        assert_eq!(time_left(61), "2 min");
        assert_eq!(time_left(7500), "2 h 5 min");
    }

    #[test]
    fn a_slow_walk_spaces_the_next_one_out_to_1_percent_of_a_core() {
        let minute = Duration::from_secs(60);
        assert_eq!(first_pause(minute), Duration::from_secs(30));
        assert_eq!(pause_after(minute, Duration::from_millis(100)), minute);
        assert_eq!(
            pause_after(minute, Duration::from_secs(2)),
            Duration::from_secs(198)
        );
        let walk = Duration::from_secs(2);
        let share = walk.as_secs_f64() / (walk + pause_after(minute, walk)).as_secs_f64();
        assert!(share <= 0.01, "{share}");
    }
}
