//! Proleptic Gregorian calendar arithmetic on microseconds since the Unix
//! epoch (H. Hinnant's `days_from_civil` / `civil_from_days`), for the CSV
//! readers and for timestamps in error messages.

pub const US_PER_MINUTE: i64 = 60_000_000;
pub const US_PER_DAY: i64 = 1_440 * US_PER_MINUTE;

/// Days since 1970-01-01 of a valid date.
pub fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month, day) of days since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

pub fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

/// `YYYY-MM-DDTHH:MM` (with `:SS` when not zero) of microseconds since the epoch.
pub fn format_us(us: i64) -> String {
    let (y, mo, d) = civil_from_days(us.div_euclid(US_PER_DAY));
    let in_day = us.rem_euclid(US_PER_DAY);
    let (h, mi) = (in_day / 3_600_000_000, in_day / US_PER_MINUTE % 60);
    let s = in_day % US_PER_MINUTE;
    if s == 0 {
        format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}")
    } else {
        format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{:02}", s / 1_000_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_day_over_centuries() {
        for days in -150_000..150_000 {
            let (y, m, d) = civil_from_days(days);
            assert!(d >= 1 && d <= days_in_month(y, m));
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(format_us(1_546_300_800_000_000), "2019-01-01T00:00");
        assert_eq!(format_us(-US_PER_MINUTE + 1_000_000), "1969-12-31T23:59:01");
    }
}
