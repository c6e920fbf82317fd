//! Writing the playing phrase to a `.mid` file from the editor (the Export button and the drag
//! handle): where it goes, what it is called, and the bytes, which are exactly what
//! `lofi-loom render` writes for the same phrase (both call [`crate::midi::export::midi_file`]).
//!
//! Names sort by date and say what is inside:
//! `2026-11-21 Fmaj9 82bpm e0.3 v0.7 seed7.mid` — the date (UTC), the first chord, the tempo,
//! energy, valence and seed; a name already taken gets " (2)", " (3)", …
//!
//! "Last N bars" writes what actually played instead (from the performance recorder, see
//! [`crate::midi::recent`]), named `2026-11-21 last 16 bars 82bpm.mid`.
//!
//! GUI thread only; nothing here is touched by the audio thread.

use crate::bridge::recent::Recorder;
use crate::bridge::views::{HostView, PhraseView};
use crate::midi::export::{
    midi_file, time_sig_supported, ExportSettings, DEFAULT_PPQ, FILE_TEMPO_RANGE_BPM,
};
use crate::midi::recent::{recent_midi_file, Window};
use std::fs::OpenOptions;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// Tempo written when the host reports none, in BPM.
pub const FALLBACK_TEMPO_BPM: f64 = 90.0;
/// Time signature written when the host reports none.
pub const FALLBACK_TIME_SIG: (u8, u8) = (4, 4);
/// The folder inside the user's music folder.
pub const FOLDER_NAME: &str = "Lofi Loom";
/// Shown in a name when the phrase has no chord.
const NO_CHORD_NAME: &str = "no chords";
/// Most " (n)" suffixes tried before giving up.
const MAX_SUFFIX: u32 = 9999;

/// The export settings for the host's transport: its tempo and time signature (or 90 BPM,
/// 4/4), 960 PPQ, the phrase once.
pub fn export_settings(host: &HostView) -> ExportSettings {
    ExportSettings {
        tempo_bpm: host.tempo_bpm.unwrap_or(FALLBACK_TEMPO_BPM),
        time_sig: host.time_sig.unwrap_or(FALLBACK_TIME_SIG),
        ppq: DEFAULT_PPQ,
        loops: 1,
    }
}

/// A civil date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Date {
    /// Year, e.g. 2026.
    pub year: i64,
    /// Month 1–12.
    pub month: u32,
    /// Day 1–31.
    pub day: u32,
}

impl Date {
    /// The UTC date `secs` seconds after 1970-01-01 (Howard Hinnant's days-to-civil algorithm).
    pub fn from_unix_secs(secs: i64) -> Date {
        let z = secs.div_euclid(86_400) + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i64::from(month <= 2);
        Date { year, month, day }
    }

    /// Today in UTC, from the system clock.
    pub fn today_utc() -> Date {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        Date::from_unix_secs(secs)
    }
}

/// `value` with at most `decimals` decimals and no trailing zeros: 0.30 → "0.3", 1.0 → "1".
fn short_number(value: f64, decimals: usize) -> String {
    let text = format!("{value:.decimals$}");
    if text.contains('.') {
        let trimmed = text.trim_end_matches('0').trim_end_matches('.');
        if trimmed == "-0" {
            "0".to_owned()
        } else {
            trimmed.to_owned()
        }
    } else {
        text
    }
}

/// Replaces what Windows, macOS or Linux refuse in a file name (`/ \ : * ? " < > |` and control
/// characters) with "-", and trims the spaces and dots Windows drops at the end.
pub fn sanitize(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| match c {
            '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|' => '-',
            c if c.is_control() => '-',
            c => c,
        })
        .collect();
    let trimmed = cleaned.trim_end_matches([' ', '.']).trim_start();
    if trimmed.is_empty() {
        "Lofi Loom".to_owned()
    } else {
        trimmed.to_owned()
    }
}

/// What a file name says about its phrase.
#[derive(Debug, Clone, PartialEq)]
pub struct NameParts {
    /// Export date.
    pub date: Date,
    /// Name of the first chord, if any.
    pub first_chord: Option<String>,
    /// Tempo in BPM.
    pub tempo_bpm: f64,
    /// Energy 0–1.
    pub energy: f32,
    /// Valence 0–1.
    pub valence: f32,
    /// The phrase's seed.
    pub seed: u64,
}

/// The file name without its extension, e.g. `2026-11-21 Fmaj9 82bpm e0.3 v0.7 seed7`.
pub fn file_stem(parts: &NameParts) -> String {
    let Date { year, month, day } = parts.date;
    let chord = parts.first_chord.as_deref().unwrap_or(NO_CHORD_NAME);
    sanitize(&format!(
        "{year:04}-{month:02}-{day:02} {chord} {}bpm e{} v{} seed{}",
        short_number(parts.tempo_bpm, 2),
        short_number(f64::from(parts.energy), 2),
        short_number(f64::from(parts.valence), 2),
        parts.seed
    ))
}

/// The `n`th candidate path for `stem` in `dir`: `stem.mid`, then `stem (2).mid`, …
pub fn candidate(dir: &Path, stem: &str, n: u32) -> PathBuf {
    if n <= 1 {
        dir.join(format!("{stem}.mid"))
    } else {
        dir.join(format!("{stem} ({n}).mid"))
    }
}

/// The first candidate path for which `taken` is false.
pub fn free_path(dir: &Path, stem: &str, taken: impl Fn(&Path) -> bool) -> Option<PathBuf> {
    (1..=MAX_SUFFIX)
        .map(|n| candidate(dir, stem, n))
        .find(|p| !taken(p))
}

/// The user's music folder: `$XDG_MUSIC_DIR`, else the one named in
/// `~/.config/user-dirs.dirs`, else `~/Music` (Linux); `%USERPROFILE%\Music` (Windows);
/// `~/Music` (macOS).
pub fn music_dir() -> Option<PathBuf> {
    #[cfg(target_os = "windows")]
    {
        std::env::var_os("USERPROFILE").map(|home| PathBuf::from(home).join("Music"))
    }
    #[cfg(not(target_os = "windows"))]
    {
        let home = PathBuf::from(std::env::var_os("HOME")?);
        #[cfg(not(target_os = "macos"))]
        {
            if let Some(dir) = std::env::var_os("XDG_MUSIC_DIR").filter(|d| !d.is_empty()) {
                return Some(PathBuf::from(dir));
            }
            let config = std::env::var_os("XDG_CONFIG_HOME")
                .filter(|d| !d.is_empty())
                .map_or_else(|| home.join(".config"), PathBuf::from);
            if let Ok(text) = std::fs::read_to_string(config.join("user-dirs.dirs")) {
                if let Some(dir) = user_dirs_music(&text, &home) {
                    return Some(dir);
                }
            }
        }
        Some(home.join("Music"))
    }
}

/// The `XDG_MUSIC_DIR` line of a `user-dirs.dirs` file (`XDG_MUSIC_DIR="$HOME/Music"`), with
/// `$HOME` expanded.
pub fn user_dirs_music(text: &str, home: &Path) -> Option<PathBuf> {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("XDG_MUSIC_DIR="))?;
    let value = line["XDG_MUSIC_DIR=".len()..].trim().trim_matches('"');
    if value.is_empty() {
        return None;
    }
    match value.strip_prefix("$HOME") {
        Some(rest) => Some(home.join(rest.trim_start_matches('/'))),
        None if value.starts_with('/') => Some(PathBuf::from(value)),
        None => None,
    }
}

/// The default export folder: `<music folder>/Lofi Loom`.
pub fn default_export_dir() -> Option<PathBuf> {
    music_dir().map(|m| m.join(FOLDER_NAME))
}

/// Writes `view`'s phrase into `dir` (created if missing) under a fresh name and returns the
/// path. The error is in plain words.
pub fn write_phrase(
    dir: &Path,
    view: &PhraseView,
    host: &HostView,
    date: Date,
) -> Result<PathBuf, String> {
    let settings = export_settings(host);
    let bytes = midi_file(&view.phrase, &settings);
    let stem = file_stem(&NameParts {
        date,
        first_chord: crate::music::names::first_chord(&view.progression),
        tempo_bpm: settings.normalized(&view.phrase).tempo_bpm,
        energy: view.knobs.energy,
        valence: view.knobs.valence,
        seed: view.seed,
    });
    write_new(dir, &stem, &bytes)
}

/// The file name of a "Last N bars" export, e.g. `2026-11-21 last 16 bars 82bpm`.
pub fn recent_stem(date: Date, bars: u32, tempo_bpm: f64) -> String {
    let Date { year, month, day } = date;
    sanitize(&format!(
        "{year:04}-{month:02}-{day:02} last {bars} bars {}bpm",
        short_number(tempo_bpm, 2)
    ))
}

/// The "Last N bars" file of what `recorder` holds: the last `bars` whole host bars before
/// the bar the transport was last in, at the host's tempo and time signature (or 90 BPM,
/// 4/4; see [`crate::midi::recent`]). None if nothing has played yet.
pub fn recent_file(recorder: &Recorder, bars: u32, host: &HostView) -> Option<(Vec<u8>, f64)> {
    let mut settings = export_settings(host);
    if !time_sig_supported(settings.time_sig) {
        settings.time_sig = FALLBACK_TIME_SIG;
    }
    let (lo, hi) = FILE_TEMPO_RANGE_BPM;
    settings.tempo_bpm = settings.tempo_bpm.clamp(lo, hi);
    let end_beats = recorder.bar_start_beats()?;
    let mut events = Vec::with_capacity(recorder.capacity());
    recorder.snapshot(&mut events);
    if events.is_empty() {
        return None;
    }
    let window = Window {
        end_beats,
        bars,
        bar_beats: settings.bar_beats(),
    };
    Some((
        recent_midi_file(&events, &window, &settings),
        settings.tempo_bpm,
    ))
}

/// Writes the last `bars` bars `recorder` holds into `dir` (created if missing) under a fresh
/// name and returns the path. The error is in plain words.
pub fn write_recent(
    dir: &Path,
    recorder: &Recorder,
    bars: u32,
    host: &HostView,
    date: Date,
) -> Result<PathBuf, String> {
    let (bytes, tempo_bpm) = recent_file(recorder, bars, host)
        .ok_or_else(|| "nothing has played yet: press play in your host".to_owned())?;
    write_new(dir, &recent_stem(date, bars, tempo_bpm), &bytes)
}

/// Writes `bytes` into `dir` (created if missing) as `stem.mid`, or the first free
/// `stem (n).mid`, never overwriting a file.
fn write_new(dir: &Path, stem: &str, bytes: &[u8]) -> Result<PathBuf, String> {
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("cannot create the folder {}: {e}", dir.display()))?;
    for n in 1..=MAX_SUFFIX {
        let path = candidate(dir, stem, n);
        // `create_new`: never overwrite, even if another export took the name just now.
        match OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(mut file) => {
                return file
                    .write_all(bytes)
                    .map(|()| path.clone())
                    .map_err(|e| format!("cannot write {}: {e}", path.display()));
            }
            Err(e) if e.kind() == ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(format!("cannot write {}: {e}", path.display())),
        }
    }
    Err(format!("too many files named {stem} in {}", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts() -> NameParts {
        NameParts {
            date: Date {
                year: 2026,
                month: 11,
                day: 21,
            },
            first_chord: Some("Fmaj9".into()),
            tempo_bpm: 82.0,
            energy: 0.3,
            valence: 0.7,
            seed: 7,
        }
    }

    #[test]
    fn names_describe_the_phrase() {
        assert_eq!(
            file_stem(&parts()),
            "2026-11-21 Fmaj9 82bpm e0.3 v0.7 seed7"
        );
        let other = NameParts {
            date: Date {
                year: 2027,
                month: 1,
                day: 5,
            },
            first_chord: None,
            tempo_bpm: 91.5,
            energy: 1.0,
            valence: 0.05,
            seed: 18_446_744_073_709_551_615,
        };
        assert_eq!(
            file_stem(&other),
            "2027-01-05 no chords 91.5bpm e1 v0.05 seed18446744073709551615"
        );
        let zero = NameParts {
            energy: 0.0,
            tempo_bpm: 120.004,
            first_chord: Some("C#m7b5(11)".into()),
            ..parts()
        };
        assert_eq!(
            file_stem(&zero),
            "2026-11-21 C#m7b5(11) 120bpm e0 v0.7 seed7"
        );
    }

    #[test]
    fn illegal_characters_are_replaced() {
        assert_eq!(sanitize(r#"a/b\c:d*e?f"g<h>i|j"#), "a-b-c-d-e-f-g-h-i-j");
        assert_eq!(sanitize("tab\there\n"), "tab-here-");
        assert_eq!(sanitize("  ends with dots.. "), "ends with dots");
        assert_eq!(sanitize("..."), "Lofi Loom");
        let weird = NameParts {
            first_chord: Some("G7/B".into()),
            ..parts()
        };
        assert_eq!(file_stem(&weird), "2026-11-21 G7-B 82bpm e0.3 v0.7 seed7");
    }

    #[test]
    fn taken_names_get_a_number() {
        let dir = Path::new("/music");
        let stem = "2026-11-21 Fmaj9 82bpm e0.3 v0.7 seed7";
        assert_eq!(
            free_path(dir, stem, |_| false),
            Some(PathBuf::from(
                "/music/2026-11-21 Fmaj9 82bpm e0.3 v0.7 seed7.mid"
            ))
        );
        let taken = [
            PathBuf::from("/music/2026-11-21 Fmaj9 82bpm e0.3 v0.7 seed7.mid"),
            PathBuf::from("/music/2026-11-21 Fmaj9 82bpm e0.3 v0.7 seed7 (2).mid"),
        ];
        assert_eq!(
            free_path(dir, stem, |p| taken.iter().any(|t| t == p)),
            Some(PathBuf::from(
                "/music/2026-11-21 Fmaj9 82bpm e0.3 v0.7 seed7 (3).mid"
            ))
        );
        assert_eq!(free_path(dir, stem, |_| true), None);
    }

    #[test]
    fn dates_come_from_unix_time_in_utc() {
        let d = |year, month, day| Date { year, month, day };
        assert_eq!(Date::from_unix_secs(0), d(1970, 1, 1));
        // 2000-03-01 00:00 UTC = 951 868 800 (a leap-year February just before).
        assert_eq!(Date::from_unix_secs(951_868_800), d(2000, 3, 1));
        assert_eq!(Date::from_unix_secs(951_868_799), d(2000, 2, 29));
        // 2026-11-21 00:00 UTC: 56 years from 1970 with 14 leap days = 20 454 days, plus 324
        // days from January 1st = 20 778 days × 86 400 = 1 795 219 200.
        assert_eq!(Date::from_unix_secs(1_795_219_200), d(2026, 11, 21));
        assert_eq!(Date::from_unix_secs(1_795_219_200 - 1), d(2026, 11, 20));
        assert_eq!(Date::from_unix_secs(-1), d(1969, 12, 31));
    }

    #[test]
    fn export_uses_the_host_transport_or_90_bpm_in_4_4() {
        let stopped = HostView {
            playing: false,
            tempo_bpm: None,
            time_sig: None,
            cursor_bars: None,
        };
        assert_eq!(
            export_settings(&stopped),
            ExportSettings {
                tempo_bpm: 90.0,
                time_sig: (4, 4),
                ppq: 960,
                loops: 1
            }
        );
        let host = HostView {
            tempo_bpm: Some(82.0),
            time_sig: Some((3, 4)),
            ..stopped
        };
        assert_eq!(
            export_settings(&host),
            ExportSettings {
                tempo_bpm: 82.0,
                time_sig: (3, 4),
                ppq: 960,
                loops: 1
            }
        );
    }

    #[test]
    fn written_files_hold_the_cli_bytes_and_never_overwrite() {
        use crate::music::progression::{Bar, Chord, Mode, Progression, Step};
        use crate::music::render::{render, RenderSettings};
        // F Ionian, I then V: Fmaj9, C13.
        let progression = Progression {
            key: 5,
            mode: Mode::Ionian,
            bars: vec![
                Bar {
                    chord: Some(Chord::diatonic(Mode::Ionian, 1)),
                    melody: [Step::Note(4); 8],
                },
                Bar {
                    chord: Some(Chord::diatonic(Mode::Ionian, 5)),
                    melody: [Step::Rest; 8],
                },
            ],
        };
        let phrase = render(&progression, &RenderSettings::neutral());
        let knobs = crate::music::knobs::Knobs {
            energy: 0.3,
            valence: 0.7,
            ..Default::default()
        };
        let view = PhraseView {
            id: 1,
            seed: 7,
            progression,
            knobs,
            phrase: phrase.clone(),
        };
        let host = HostView {
            playing: true,
            tempo_bpm: Some(82.0),
            time_sig: Some((4, 4)),
            cursor_bars: Some(0.5),
        };
        // A folder that does not exist yet, two levels down: write_phrase makes it.
        let root = tempfile::Builder::new()
            .prefix("lofi-loom-export-test-")
            .tempdir()
            .expect("temp dir");
        let dir = root.path().join("nested/Lofi Loom");
        let date = Date {
            year: 2026,
            month: 11,
            day: 21,
        };
        let first = write_phrase(&dir, &view, &host, date).expect("written");
        let second = write_phrase(&dir, &view, &host, date).expect("written again");
        assert_eq!(
            first,
            dir.join("2026-11-21 Fmaj9 82bpm e0.3 v0.7 seed7.mid")
        );
        assert_eq!(
            second,
            dir.join("2026-11-21 Fmaj9 82bpm e0.3 v0.7 seed7 (2).mid")
        );
        // What `lofi-loom render` writes for this phrase at 82 BPM, 4/4, 960 PPQ, once.
        let cli = midi_file(
            &phrase,
            &ExportSettings {
                tempo_bpm: 82.0,
                time_sig: (4, 4),
                ppq: 960,
                loops: 1,
            },
        );
        assert_eq!(std::fs::read(&first).expect("read"), cli);
        assert_eq!(std::fs::read(&second).expect("read"), cli);
    }

    #[test]
    fn the_music_folder_is_read_from_user_dirs() {
        let home = Path::new("/home/me");
        let text = "# written by xdg-user-dirs-update\nXDG_DESKTOP_DIR=\"$HOME/Desktop\"\nXDG_MUSIC_DIR=\"$HOME/Musik\"\n";
        assert_eq!(
            user_dirs_music(text, home),
            Some(PathBuf::from("/home/me/Musik"))
        );
        assert_eq!(
            user_dirs_music("XDG_MUSIC_DIR=\"/data/audio\"", home),
            Some(PathBuf::from("/data/audio"))
        );
        assert_eq!(user_dirs_music("XDG_MUSIC_DIR=\"\"", home), None);
        assert_eq!(user_dirs_music("XDG_VIDEOS_DIR=\"$HOME/V\"", home), None);
    }
}
