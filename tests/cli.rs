//! End-to-end tests of the `lofi-loom` binary: it is run on the fixtures in `tests/fixtures/`,
//! its `.mid` output is parsed back with midly, and the notes are compared with values worked
//! out by hand from the documented rules (and with what the sequencer plays in the simulated
//! host). Error paths check the exit code and that the message names the culprit.
//!
//! The rules the expected notes come from (see `src/music/render.rs`, `progression.rs`, `theory.rs`):
//! * LOFI melody degree d (1–15) is `scale[(d−1) % 7] + 12 × ((d−1) / 7)` semitones above the
//!   tonic; the tonic is MIDI 60 + key for keys C–F#, 48 + key for G–B; a step is an eighth
//!   note (480 ticks at 960 PPQ) and every LOFI note lasts one step;
//! * chords and bass last the whole bar; the bass is the chord root in 36–47;
//! * velocities are `base + 48 × energy`: chords 56, bass 60, melody 64 at energy 0;
//! * voicings follow the rule in `src/music/theory.rs`: ii–V–I in C is Dm9 C4 E4 F4 A4, G13 B3 E4 F4 A4,
//!   Cmaj9 B3 D4 E4 G4 (worked out by hand in theory's own tests).

// A test or benchmark that cannot go on should stop at once, with a message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "common/tempdir.rs"]
mod tempdir;

use lofi_loom::audio::sequencer::Sequencer;
use lofi_loom::audio::sim::{Recorder, SimTransport};
use lofi_loom::music::drums;
use lofi_loom::music::phrase::Phrase;
use lofi_loom::music::progression::Progression;
use lofi_loom::music::render::{self, RenderSettings};
use lofi_loom::music::theory::{self, Register, Voicing};
use midly::num::u24;
use midly::{Format, MetaMessage, MidiMessage, Smf, Timing, TrackEventKind};
use std::path::Path;
use std::process::Command;
use tempdir::{temp_dir, Files};

/// A note as the file holds it: (start tick, end tick, key, velocity, channel 0–15).
type FileNote = (u64, u64, u8, u8, u8);
/// A note event: (tick, on, key, velocity, channel 0–15).
type FileEvent = (u64, bool, u8, u8, u8);

/// One run of the binary.
struct Run {
    /// Exit code (-1 if killed by a signal).
    code: i32,
    /// Everything printed to stdout.
    stdout: String,
    /// Everything printed to stderr.
    stderr: String,
}

fn lofi(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_lofi-loom"))
        .args(args)
        .output()
        .expect("the binary runs");
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    run
}

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

/// The knobs of the README's run command (`render --energy 0.3 --valence 0.7 --bars 8 --seed 7
/// --bpm 82`), without the output.
const README_RENDER: [&str; 10] = [
    "--energy",
    "0.3",
    "--valence",
    "0.7",
    "--bars",
    "8",
    "--seed",
    "7",
    "--bpm",
    "82",
];

/// Runs `render` with `args` plus `-o <temp>/out.mid`, expects success, returns the file.
fn render_ok(args: &[&str]) -> Vec<u8> {
    let dir = temp_dir("render");
    let out = dir.file("out.mid");
    let mut all = vec!["render"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["-o", &out]);
    let run = lofi(&all);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("wrote"), "{}", run.stderr);
    std::fs::read(&out).expect("the output file")
}

/// Swing and humanize off, and no drums: the hand-derived tests expect chords, bass and melody
/// exactly on the grid (the command line, like the plugin, defaults to swing 20, humanize 25
/// and drums written from the seed).
const BY_HAND: [&str; 5] = ["--swing", "0", "--humanize", "0", "--no-drums"];

/// [`render_ok`] as the hand-derived tests need it ([`BY_HAND`]).
fn render_by_hand(args: &[&str]) -> Vec<u8> {
    let mut all = args.to_vec();
    all.extend_from_slice(&BY_HAND);
    render_ok(&all)
}

/// A parsed format 1 file, split per track.
struct Midi {
    /// Ticks per quarter note from the header.
    ppq: u16,
    /// Per track: its name.
    names: Vec<String>,
    /// Per track: its note events, in file order.
    events: Vec<Vec<FileEvent>>,
    /// Per track: its meta events other than the name, with absolute ticks.
    metas: Vec<Vec<(u64, MetaMessage<'static>)>>,
    /// Per track: the tick of End of Track (checked to be the last event).
    ends: Vec<u64>,
}

fn parse(bytes: &[u8]) -> Midi {
    let smf = Smf::parse(bytes).expect("a valid SMF");
    assert_eq!(smf.header.format, Format::Parallel);
    let Timing::Metrical(ppq) = smf.header.timing else {
        panic!("expected metrical timing");
    };
    let mut midi = Midi {
        ppq: ppq.as_int(),
        names: Vec::new(),
        events: Vec::new(),
        metas: Vec::new(),
        ends: Vec::new(),
    };
    for track in &smf.tracks {
        let (mut tick, mut name, mut events, mut metas) = (0u64, String::new(), vec![], vec![]);
        for e in track {
            tick += u64::from(u32::from(e.delta));
            match e.kind {
                TrackEventKind::Meta(MetaMessage::TrackName(n)) => {
                    name = String::from_utf8_lossy(n).into_owned()
                }
                TrackEventKind::Meta(m) => metas.push((tick, m.to_static())),
                TrackEventKind::Midi { channel, message } => {
                    let ch = channel.as_int();
                    events.push(match message {
                        MidiMessage::NoteOn { key, vel } => {
                            (tick, true, key.as_int(), vel.as_int(), ch)
                        }
                        MidiMessage::NoteOff { key, vel } => {
                            assert_eq!(vel.as_int(), 0, "note-offs have velocity 0");
                            (tick, false, key.as_int(), 0, ch)
                        }
                        other => panic!("unexpected message {other:?}"),
                    });
                }
                other => panic!("unexpected event {other:?}"),
            }
        }
        assert_eq!(metas.last().map(|m| m.1), Some(MetaMessage::EndOfTrack));
        midi.ends.push(tick);
        midi.names.push(name);
        midi.events.push(events);
        midi.metas.push(metas);
    }
    midi
}

/// Pairs note-ons with note-offs; sorted by (start, key).
fn notes(events: &[FileEvent]) -> Vec<FileNote> {
    let mut open: Vec<(u64, u8, u8, u8)> = Vec::new();
    let mut done = Vec::new();
    for &(tick, on, key, vel, ch) in events {
        if on {
            assert!(
                !open.iter().any(|o| o.1 == key && o.3 == ch),
                "{key} struck twice"
            );
            open.push((tick, key, vel, ch));
        } else {
            let i = open
                .iter()
                .position(|o| o.1 == key && o.3 == ch)
                .expect("a note-off has a note-on");
            let (start, key, vel, ch) = open.remove(i);
            done.push((start, tick, key, vel, ch));
        }
    }
    assert!(open.is_empty(), "hanging notes: {open:?}");
    done.sort_by_key(|n| (n.0, n.2));
    done
}

fn tempo(midi: &Midi) -> u32 {
    midi.metas[0]
        .iter()
        .find_map(|(tick, m)| match m {
            MetaMessage::Tempo(t) if *tick == 0 => Some(t.as_int()),
            _ => None,
        })
        .expect("a tempo at tick 0")
}

fn time_sig(midi: &Midi) -> MetaMessage<'static> {
    midi.metas[0]
        .iter()
        .find(|(_, m)| matches!(m, MetaMessage::TimeSignature(..)))
        .map(|(_, m)| *m)
        .expect("a time signature")
}

/// Whole-bar notes on `channel` at `velocity`, one chord (or bass note) per bar of 3840 ticks.
fn bar_notes(bars: &[&[u8]], velocity: u8, channel: u8) -> Vec<FileNote> {
    let mut out = Vec::new();
    for (i, keys) in bars.iter().enumerate() {
        let start = i as u64 * 3840;
        for &k in keys.iter() {
            out.push((start, start + 3840, k, velocity, channel));
        }
    }
    out.sort_by_key(|n| (n.0, n.2));
    out
}

/// One-step (eighth-note, 480-tick) melody notes at (step index from the phrase start, key).
fn step_notes(steps: &[(u64, u8)], velocity: u8, channel: u8) -> Vec<FileNote> {
    steps
        .iter()
        .map(|&(s, k)| (s * 480, s * 480 + 480, k, velocity, channel))
        .collect()
}

/// Dm9, G13, Cmaj9, Cmaj9 (the last led from the same chord, so unchanged).
const II_V_I_CHORDS: [&[u8]; 4] = [
    &[60, 64, 65, 69],
    &[59, 64, 65, 69],
    &[59, 62, 64, 67],
    &[59, 62, 64, 67],
];

/// The ii-v-i fixture's melody as (step, key): C Ionian degrees 2 4 6 5 4 | 5 7 9 | 8 3 1 | rests.
const II_V_I_MELODY: [(u64, u8); 11] = [
    (0, 62),
    (2, 65),
    (4, 69),
    (5, 67),
    (6, 65),
    (8, 67),
    (11, 71),
    (12, 74),
    (16, 72),
    (20, 64),
    (22, 60),
];

#[test]
fn ii_v_i_renders_exactly_the_hand_derived_notes() {
    let midi = parse(&render_by_hand(&["--progression", &fixture("ii-v-i.json")]));
    assert_eq!(midi.ppq, 960);
    assert_eq!(midi.names, ["Lofi Loom", "Chords", "Bass", "Melody"]);
    // The file's bpm (75): 60 000 000 / 75 µs per quarter; 4/4 is (4, 2^2).
    assert_eq!(tempo(&midi), 800_000);
    assert_eq!(time_sig(&midi), MetaMessage::TimeSignature(4, 2, 24, 8));
    // 4 bars × 3840 ticks: every track ends there.
    assert_eq!(midi.ends, [15_360; 4]);
    // Energy 0.5: chords 56 + 24, bass 60 + 24, melody 64 + 24.
    assert_eq!(
        notes(&midi.events[1]),
        bar_notes(&II_V_I_CHORDS, 80, 0),
        "chords"
    );
    // Roots D, G, C, C in 36–47.
    assert_eq!(
        notes(&midi.events[2]),
        bar_notes(&[&[38], &[43], &[36], &[36]], 84, 1),
        "bass"
    );
    assert_eq!(
        notes(&midi.events[3]),
        step_notes(&II_V_I_MELODY, 88, 2),
        "melody"
    );
    // On a bar line the old chord's offs come before the new chord's ons, keys ascending.
    let at_3840: Vec<(bool, u8)> = midi.events[1]
        .iter()
        .filter(|e| e.0 == 3840)
        .map(|e| (e.1, e.2))
        .collect();
    assert_eq!(
        at_3840,
        [
            (false, 60),
            (false, 64),
            (false, 65),
            (false, 69),
            (true, 59),
            (true, 64),
            (true, 65),
            (true, 69)
        ]
    );
}

#[test]
fn literal_voicings_agree_with_the_theory_module() {
    // The literal keys above are the voicing rule worked by hand; theory::voice must agree,
    // led bar to bar as render does.
    let text = std::fs::read_to_string(fixture("ii-v-i.json")).expect("fixture");
    let p = Progression::from_json(&text).expect("valid fixture");
    let mut previous: Option<Voicing> = None;
    for (bar, expected) in p.bars.iter().zip(II_V_I_CHORDS) {
        let chord = bar.chord.expect("every bar has a chord");
        let v = theory::voice(chord, p.key, p.mode, previous.as_ref(), Register::CHORDS);
        assert_eq!(v.keys(), expected);
        previous = Some(v);
    }
}

/// What the sequencer plays for `phrase` in a simulated 48 kHz host at `tempo_bpm` in
/// `time_sig`, for `host_bars` bars and a stop, with samples mapped to ticks at 960 PPQ.
fn sequencer_at_48k(
    phrase: &Phrase,
    tempo_bpm: f64,
    time_sig: (i32, i32),
    host_bars: u64,
) -> Vec<FileEvent> {
    let samples_per_beat = 48_000.0 * 60.0 / tempo_bpm;
    let samples_per_tick = (samples_per_beat / 960.0) as u64;
    assert_eq!(samples_per_tick as f64 * 960.0, samples_per_beat);
    let bar_beats = time_sig.0 as f64 * 4.0 / time_sig.1 as f64;
    let total = (host_bars as f64 * bar_beats * samples_per_beat) as u64;
    let mut seq = Sequencer::new();
    let mut rec = Recorder::default();
    seq.queue(Box::new(phrase.clone()), &mut rec);
    let mut t = SimTransport::new(48_000.0, tempo_bpm);
    t.time_sig = time_sig;
    t.playing = true;
    rec.run(&mut seq, &mut t, total, 512);
    t.playing = false;
    rec.block(&mut seq, &mut t, 512);
    // An event at song position x lands on sample ceil(x × 48 kHz) and on tick
    // ceil(x × 960 PPQ); with a whole number of samples per tick the second is the first
    // divided by that number, rounded up.
    rec.events
        .iter()
        .map(|e| {
            let ev = e.event;
            (
                e.sample.div_ceil(samples_per_tick),
                ev.on,
                ev.key,
                ev.velocity,
                ev.channel,
            )
        })
        .collect()
}

#[test]
fn cli_writes_what_the_sequencer_plays_in_a_48k_host() {
    let args = [
        "--progression",
        &fixture("ii-v-i.json"),
        "--bars",
        "8",
        "--swing",
        "30",
        "--humanize",
        "60",
        "--seed",
        "7",
        "--energy",
        "0.8",
        "--time-sig",
        "3/4",
        "--lazy",
        "50",
    ];
    let midi = parse(&render_ok(&args));
    // 8 bars of 3/4 at 960 PPQ: the conductor track and four parts.
    assert_eq!(midi.ends, [8 * 2880; 5]);
    let text = std::fs::read_to_string(fixture("ii-v-i.json")).expect("fixture");
    let progression = Progression::from_json(&text).expect("valid fixture");
    let settings = RenderSettings {
        bars: Some(8),
        swing_pct: 30.0,
        humanize_pct: 60.0,
        humanize_seed: 7,
        drum_seed: 7,
        energy: 0.8,
        lazy_pct: 50.0,
        ..RenderSettings::neutral()
    };
    // The drums a progression file gets are written from the seed, at the phrase's length.
    let groove = drums::write_groove(7, 0.8, 8);
    let mut phrase = Phrase::new(8);
    render::render_into(&progression, Some(&groove), &settings, &mut phrase);
    let played = sequencer_at_48k(&phrase, 75.0, (3, 4), 8);
    for (track, channel) in [(1, 0), (2, 1), (3, 2), (4, 9)] {
        let expected: Vec<FileEvent> = played.iter().copied().filter(|e| e.4 == channel).collect();
        assert_eq!(midi.events[track], expected, "channel {channel}");
        assert!(!expected.is_empty());
    }
    // Humanize really moved notes off the swung grid (beats at multiples of 720 ticks, swung
    // off-beats 468 ticks later: all multiples of 36), or this test would prove little.
    assert!(midi.events[3].iter().any(|e| e.0 % 36 != 0));
}

#[test]
fn time_signature_ppq_tempo_and_loops() {
    let midi = parse(&render_by_hand(&[
        "--progression",
        &fixture("ii-v-i.json"),
        "--time-sig",
        "3/4",
        "--ppq",
        "480",
        "--loops",
        "2",
        "--bpm",
        "90",
    ]));
    assert_eq!(midi.ppq, 480);
    // 60 000 000 / 90 = 666 666.67, rounded.
    assert_eq!(tempo(&midi), 666_667);
    assert_eq!(time_sig(&midi), MetaMessage::TimeSignature(3, 2, 24, 8));
    // A 3/4 bar at 480 PPQ is 1440 ticks: 4 bars twice = 11 520.
    assert_eq!(midi.ends, [11_520; 4]);
    // The bass: one note per bar, the phrase written twice.
    let bass: Vec<(u64, u64, u8)> = notes(&midi.events[2])
        .iter()
        .map(|n| (n.0, n.1, n.2))
        .collect();
    let roots = [38, 43, 36, 36, 38, 43, 36, 36];
    let expected: Vec<(u64, u64, u8)> = roots
        .iter()
        .enumerate()
        .map(|(i, &k)| (i as u64 * 1440, i as u64 * 1440 + 1440, k))
        .collect();
    assert_eq!(bass, expected);
    // A phrase step (half a phrase beat) is 3/4 of a host eighth: 180 ticks. The first
    // melody notes: step 0 → 0–180, step 2 → 360–540; the second pass starts at 5760.
    let melody = notes(&midi.events[3]);
    assert_eq!(melody.len(), 22);
    assert_eq!(
        (melody[0], melody[1]),
        ((0, 180, 62, 88, 2), (360, 540, 65, 88, 2))
    );
    assert_eq!(melody[11], (5760, 5940, 62, 88, 2));
}

#[test]
fn lofi_loom_json_with_its_own_bpm_and_holds() {
    let midi = parse(&render_by_hand(&["-p", &fixture("own-format.json")]));
    // bpm 70: 857 142.86 µs, rounded.
    assert_eq!(tempo(&midi), 857_143);
    assert_eq!(midi.ends, [3840; 4]);
    // A Aeolian, tonic A3 = 48 + 9 = 57: note + 2 holds = 3 steps, a rest, ♭3 + hold, 5th.
    assert_eq!(
        notes(&midi.events[3]),
        [
            (0, 1440, 57, 88, 2),
            (1920, 2880, 60, 88, 2),
            (2880, 3360, 64, 88, 2)
        ]
    );
    // Am9 rootless C E G B as B3 C4 E4 G4 (theory's Aeolian test); bass A2 = 45.
    assert_eq!(
        notes(&midi.events[1]),
        bar_notes(&[&[59, 60, 64, 67]], 80, 0)
    );
    assert_eq!(notes(&midi.events[2]), [(0, 3840, 45, 84, 1)]);
    // --bpm overrides the file: 100 BPM = 600 000 µs.
    let midi = parse(&render_ok(&[
        "-p",
        &fixture("own-format.json"),
        "--bpm",
        "100",
    ]));
    assert_eq!(tempo(&midi), 600_000);
}

#[test]
fn a_file_without_bpm_plays_at_80_and_high_keys_sit_an_octave_lower() {
    let midi = parse(&render_by_hand(&["-p", &fixture("g-major-no-bpm.json")]));
    assert_eq!(tempo(&midi), 750_000);
    // G (key 8 = pitch class 7) is above F#: tonic 48 + 7 = 55. Degrees 1, 8 (the octave)
    // and, in the chordless bar 2, 5 (D4).
    assert_eq!(
        notes(&midi.events[3]),
        step_notes(&[(0, 55), (4, 67), (10, 62)], 88, 2)
    );
    // Bass G2 = 43 in bar 1 only: bar 2 has no chord, so no chord and no bass.
    assert_eq!(notes(&midi.events[2]), [(0, 3840, 43, 84, 1)]);
    assert!(notes(&midi.events[1]).iter().all(|n| n.1 == 3840));
}

#[test]
fn energy_sets_the_velocity_of_each_part() {
    let velocities = |energy: &str| {
        let midi = parse(&render_by_hand(&[
            "-p",
            &fixture("ii-v-i.json"),
            "--energy",
            energy,
        ]));
        [1, 2, 3].map(|t| {
            let mut v: Vec<u8> = notes(&midi.events[t]).iter().map(|n| n.3).collect();
            v.dedup();
            v
        })
    };
    assert_eq!(velocities("0"), [vec![56], vec![60], vec![64]]);
    assert_eq!(velocities("1"), [vec![104], vec![108], vec![112]]);
}

#[test]
fn channels_and_muted_parts_shape_the_tracks() {
    let midi = parse(&render_ok(&[
        "-p",
        &fixture("ii-v-i.json"),
        "--channels",
        "5,5,10",
        "--no-melody",
        "--no-drums",
    ]));
    assert_eq!(midi.names, ["Lofi Loom", "Chords + Bass"]);
    let merged = notes(&midi.events[1]);
    assert_eq!(merged.len(), 16 + 4);
    assert!(merged.iter().all(|n| n.4 == 4));
    let midi = parse(&render_ok(&[
        "-p",
        &fixture("ii-v-i.json"),
        "--channels",
        "16,1,2",
        "--no-chords",
        "--no-bass",
        "--no-drums",
    ]));
    assert_eq!(midi.names, ["Lofi Loom", "Melody"]);
    assert!(midi.events[1].iter().all(|e| e.4 == 1));
    let midi = parse(&render_ok(&[
        "-p",
        &fixture("ii-v-i.json"),
        "--channels",
        "16,1,2",
        "--no-drums",
    ]));
    // Tracks go by part, whatever the channel numbers.
    assert_eq!(midi.names, ["Lofi Loom", "Chords", "Bass", "Melody"]);
    assert!(midi.events[1].iter().all(|e| e.4 == 15));
}

#[test]
fn same_arguments_give_the_same_bytes() {
    let args = [
        "-p",
        &fixture("ii-v-i.json"),
        "--humanize",
        "100",
        "--seed",
        "42",
        "--swing",
        "55",
        "--loops",
        "3",
    ];
    let a = render_ok(&args);
    assert_eq!(a, render_ok(&args));
    let mut other_seed = args;
    other_seed[5] = "43";
    assert_ne!(a, render_ok(&other_seed));
}

#[test]
fn summary_line_counts_notes_per_part() {
    let dir = temp_dir("summary");
    let out = dir.file("song.mid");
    let run = lofi(&[
        "render",
        "-p",
        &fixture("ii-v-i.json"),
        "-o",
        &out,
        "--loops",
        "2",
        "--no-bass",
        "--no-drums",
    ]);
    assert_eq!(run.code, 0);
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr,
        format!(
            "lofi-loom: wrote {out}: 8 bars (4-bar phrase x 2) at 75 BPM in 4/4 (25.6 s), \
             960 PPQ; chords 32 notes, bass off, melody 22 notes, drums off\n"
        )
    );
}

#[test]
fn help_and_version() {
    let main = lofi(&["--help"]);
    assert_eq!(main.code, 0);
    assert!(main.stdout.contains("Usage:") && main.stdout.contains("render"));
    let render = lofi(&["render", "--help"]);
    assert_eq!(render.code, 0);
    for option in [
        "--progression",
        "--output",
        "--bpm",
        "--time-sig",
        "--bars",
        "--loops",
        "--ppq",
        "--swing",
        "--humanize",
        "--seed",
        "--energy",
        "--channels",
        "--no-chords",
        "--no-bass",
        "--no-melody",
    ] {
        assert!(render.stdout.contains(option), "{option} is documented");
    }
    assert_eq!(lofi(&["help", "render"]).stdout, render.stdout);
    assert_eq!(lofi(&["help"]).stdout, main.stdout);
    assert_eq!(lofi(&["-h"]).stdout, main.stdout);
    let version = lofi(&["--version"]);
    assert_eq!(version.code, 0);
    assert_eq!(
        version.stdout,
        format!("lofi-loom {}\n", env!("CARGO_PKG_VERSION"))
    );
}

/// Runs `render` expecting failure; returns (exit code, stderr) and checks no file was written.
fn render_fails(args: &[&str]) -> (i32, String) {
    let dir = temp_dir("fail");
    let out = dir.file("out.mid");
    let mut all = vec!["render"];
    all.extend_from_slice(args);
    if !args.contains(&"-o") {
        all.extend_from_slice(&["-o", &out]);
    }
    let run = lofi(&all);
    assert_ne!(run.code, 0, "{args:?} should fail");
    assert!(!Path::new(&out).exists(), "{args:?} wrote a file");
    assert!(
        run.stderr.starts_with("lofi-loom: error: "),
        "{}",
        run.stderr
    );
    (run.code, run.stderr)
}

#[test]
fn malformed_progressions_exit_2_naming_the_field() {
    for (file, field) in [
        ("bad-chord.json", "`chords[0]` is 9"),
        ("short-melody.json", "`melodies[1]`"),
        ("truncated.json", "not valid JSON"),
    ] {
        let (code, stderr) = render_fails(&["-p", &fixture(file)]);
        assert_eq!(code, 2, "{file}: {stderr}");
        assert!(stderr.contains(field), "{file}: {stderr}");
        assert!(
            stderr.contains(file),
            "{file}: the message names the file: {stderr}"
        );
    }
}

#[test]
fn io_failures_exit_1_naming_the_path() {
    let dir = temp_dir("io");
    let missing = dir.file("no-such-song.json");
    let (code, stderr) = render_fails(&["-p", &missing]);
    assert_eq!(code, 1);
    assert!(stderr.contains(&missing), "{stderr}");
    // The output's directory does not exist.
    let out = dir.file("no-such-dir/out.mid");
    let (code, stderr) = render_fails(&["-p", &fixture("ii-v-i.json"), "-o", &out]);
    assert_eq!(code, 1);
    assert!(stderr.contains(&out), "{stderr}");
}

#[test]
fn bad_options_exit_2_naming_the_option() {
    let song = fixture("ii-v-i.json");
    let cases: &[(&[&str], &str)] = &[
        (&["--bpm", "fast"], "--bpm"),
        (&["--bpm", "5"], "--bpm"),
        (&["--bpm", "NaN"], "--bpm"),
        (&["--bpm"], "--bpm"),
        (&["--time-sig", "5/3"], "--time-sig"),
        (&["--time-sig", "4"], "--time-sig"),
        (&["--bars", "3"], "--bars"),
        (&["--loops", "0"], "--loops"),
        (&["--ppq", "96"], "--ppq"),
        (&["--swing", "80"], "--swing"),
        (&["--humanize", "-1"], "--humanize"),
        (&["--seed", "-3"], "--seed"),
        (&["--energy", "2"], "--energy"),
        (&["--channels", "1,2"], "--channels"),
        (&["--channels", "0,1,2"], "--channels"),
        (&["--channels", "1,2,17"], "--channels"),
        (&["--frobnicate"], "--frobnicate"),
        (&["stray.json"], "stray.json"),
    ];
    for (extra, named) in cases {
        let mut args = vec!["-p", song.as_str()];
        args.extend_from_slice(extra);
        let (code, stderr) = render_fails(&args);
        assert_eq!(code, 2, "{extra:?}: {stderr}");
        assert!(stderr.contains(named), "{extra:?}: {stderr}");
        assert!(stderr.contains("lofi-loom render --help"), "{stderr}");
    }
    // Options that steer the model make no sense with a progression file.
    let (code, stderr) = render_fails(&["-p", song.as_str(), "--valence", "0.7"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("--valence") && stderr.contains("--progression"),
        "{stderr}"
    );
    let (code, stderr) = render_fails(&["--key", "H"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("--key"), "{stderr}");
    let (code, stderr) = render_fails(&["--mode", "happy"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("--mode"), "{stderr}");
    let run = lofi(&["render", "-p", &song]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("-o"), "{}", run.stderr);
    // No or unknown command.
    for args in [&[][..], &["paint"][..], &["--bpm", "75"][..]] {
        let run = lofi(args);
        assert_eq!(run.code, 2, "{args:?}");
        assert!(run.stderr.contains("lofi-loom --help"), "{}", run.stderr);
    }
}

#[test]
fn fractional_tempos_are_rounded_to_whole_microseconds() {
    // 60 000 000 / bpm, rounded; the tempo is the first event after the track name.
    for (bpm, micros) in [("60", 1_000_000u32), ("120", 500_000), ("72.5", 827_586)] {
        let midi = parse(&render_ok(&["-p", &fixture("ii-v-i.json"), "--bpm", bpm]));
        assert_eq!(tempo(&midi), micros, "{bpm}");
        assert_eq!(
            midi.metas[0][0],
            (0, MetaMessage::Tempo(u24::new(micros))),
            "tempo first"
        );
    }
}

/// Without `--progression` the embedded model writes the phrase: the seed decides it, the
/// knobs steer it, and `--json` prints its tokens.
#[test]
fn the_model_writes_a_phrase_the_seed_reproduces() {
    let dir = temp_dir("generate");
    let (a, b, c) = (dir.file("a.mid"), dir.file("b.mid"), dir.file("c.mid"));
    let args = |out: &str, seed: &str| {
        lofi(&[
            "render",
            "--energy",
            "0.3",
            "--valence",
            "0.7",
            "--bars",
            "8",
            "--seed",
            seed,
            "--bpm",
            "82",
            "--json",
            "-o",
            out,
        ])
    };
    let first = args(&a, "7");
    assert_eq!(first.code, 0, "{}", first.stderr);
    let tokens: serde_json::Value =
        serde_json::from_str(&first.stdout).expect("--json prints JSON");
    assert_eq!(tokens["bars"].as_array().map(Vec::len), Some(8));
    let progression =
        lofi_loom::music::progression::Progression::from_json(&first.stdout).expect("valid");
    assert_eq!(progression.bars.len(), 8);
    // The groove is printed beside the tokens: the one the seed writes at this Energy.
    let groove: drums::Groove =
        serde_json::from_value(tokens["drums"].clone()).expect("--json prints the groove");
    assert_eq!(groove.bars.len(), 8);
    assert_eq!(groove, drums::write_groove(7, 0.3, 8));
    assert!(
        first.stderr.contains("8 bars at 82 BPM"),
        "{}",
        first.stderr
    );
    assert_eq!(args(&b, "7").stdout, first.stdout, "same seed, same tokens");
    assert_eq!(
        std::fs::read(&a).unwrap(),
        std::fs::read(&b).unwrap(),
        "same seed, same bytes"
    );
    assert_ne!(
        args(&c, "8").stdout,
        first.stdout,
        "another seed, another phrase"
    );
}

/// `--model` uses a model folder (here a copy of the built-in one: the same phrase) and
/// refuses a broken one by name; `--temperature` and `--top-p` change the phrase and are
/// range-checked.
#[test]
fn model_folder_temperature_and_top_p() {
    let dir = temp_dir("model");
    let models = dir.file("my model");
    std::fs::create_dir_all(&models).expect("model dir");
    for name in [
        "lofi_loom_bar.onnx",
        "lofi_loom_mode.onnx",
        "lofi_loom_model.json",
    ] {
        let from = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("models")
            .join(name);
        std::fs::copy(from, Path::new(&models).join(name)).expect("copy model");
    }
    let out = dir.file("x.mid");
    let run = |extra: &[&str]| {
        let mut args = vec!["render", "--seed", "5", "--bars", "4", "--json", "-o", &out];
        args.extend_from_slice(extra);
        lofi(&args)
    };
    let built_in = run(&[]);
    assert_eq!(built_in.code, 0, "{}", built_in.stderr);
    let copy = run(&["--model", &models]);
    assert_eq!(copy.code, 0, "{}", copy.stderr);
    assert_eq!(
        copy.stdout, built_in.stdout,
        "a copy of the model writes the same"
    );
    let cool = run(&["--temperature", "0.3"]);
    assert_eq!(cool.code, 0, "{}", cool.stderr);
    assert_ne!(cool.stdout, built_in.stdout);
    let narrow = run(&["--top-p", "0.5"]);
    assert_eq!(narrow.code, 0, "{}", narrow.stderr);
    assert_ne!(narrow.stdout, built_in.stdout);

    std::fs::remove_file(Path::new(&models).join("lofi_loom_mode.onnx")).expect("remove");
    let broken = run(&["--model", &models]);
    assert_eq!(broken.code, 2, "{}", broken.stderr);
    assert!(
        broken.stderr.contains("my model") && broken.stderr.contains("lofi_loom_mode.onnx"),
        "{}",
        broken.stderr
    );
    for (opt, value) in [("--temperature", "0"), ("--top-p", "1.5"), ("--top-p", "x")] {
        let bad = run(&[opt, value]);
        assert_eq!(bad.code, 2, "{opt} {value}");
        assert!(bad.stderr.contains(opt), "{}", bad.stderr);
    }
}

/// The editor's Export writes the very bytes `render` writes for the same phrase: the worker
/// writes seed 7 with the embedded model for the same knob values, the editor's file writer
/// saves what the engine published, and the two files are compared byte for byte.
#[test]
fn the_editor_export_writes_the_same_bytes_as_render() {
    use lofi_loom::bridge::messages::{Request, RequestKind};
    use lofi_loom::bridge::views::{HostView, Views};
    use lofi_loom::midi::files::{write_phrase, Date};
    use lofi_loom::music::knobs::Knobs;
    use lofi_loom::session::{Session, SessionCell};
    use lofi_loom::worker::neural::NeuralSource;
    use lofi_loom::worker::source::{PhraseSource, SourceFactory};
    use lofi_loom::worker::Worker;
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    let cli = render_ok(&[&README_RENDER[..], &["--swing", "30", "--humanize", "40"]].concat());

    let cell = SessionCell::default();
    cell.restore(Session {
        seed: 7,
        ..Session::default()
    });
    let views = Views::new();
    let factory: SourceFactory = Box::new(|dir| match NeuralSource::load(dir) {
        Ok(source) => Ok(Box::new(source) as Box<dyn PhraseSource>),
        Err(e) => Err(e.to_string()),
    });
    let (_worker, mut ends) =
        Worker::spawn(cell.clone(), Arc::default(), views.clone(), factory).expect("worker");
    let knobs = Knobs {
        energy: 0.3,
        valence: 0.7,
        bars: 8,
        swing_pct: 30.0,
        humanize_pct: 40.0,
        ..Knobs::default()
    };
    ends.request(Request::new(RequestKind::Vary, knobs))
        .expect("request");
    let started = Instant::now();
    let phrase = loop {
        if let Some(p) = ends.next_phrase() {
            break p;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the worker wrote nothing"
        );
        std::thread::sleep(Duration::from_millis(2));
    };
    let view = views.phrase(phrase.id()).expect("the phrase's view");
    assert_eq!(view.seed, 7);

    let dir = temp_dir("export");
    let host = HostView {
        playing: true,
        tempo_bpm: Some(82.0),
        time_sig: Some((4, 4)),
        cursor_bars: Some(0.0),
    };
    let date = Date {
        year: 2026,
        month: 11,
        day: 21,
    };
    let path = write_phrase(Path::new(&dir.file("Lofi Loom")), &view, &host, date).expect("saved");
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    assert!(
        name.starts_with("2026-11-21 ") && name.ends_with(" 82bpm e0.3 v0.7 seed7.mid"),
        "{name}"
    );
    assert_eq!(std::fs::read(&path).expect("the exported file"), cli);
}

/// `lofi-loom render` with nothing but a seed and the knobs writes exactly what a fresh plugin
/// plays: the plugin's worker writes seed 7 at Energy 0.3 and Valence 0.7 with every other
/// setting at its default (swing 20, humanize 25, 4 bars, parts on channels 1–3, the embedded
/// model), and that phrase, exported at the command line's file defaults (80 BPM, 4/4, 960
/// PPQ, one loop), is byte for byte the command line's file.
#[test]
fn render_with_only_seed_and_knobs_writes_what_a_fresh_plugin_plays() {
    use lofi_loom::bridge::messages::{Request, RequestKind};
    use lofi_loom::bridge::views::Views;
    use lofi_loom::midi::export::{midi_file, ExportSettings};
    use lofi_loom::music::knobs::Knobs;
    use lofi_loom::session::{Session, SessionCell};
    use lofi_loom::worker::neural::NeuralSource;
    use lofi_loom::worker::source::{PhraseSource, SourceFactory};
    use lofi_loom::worker::Worker;
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    let cli = render_ok(&["--seed", "7", "--energy", "0.3", "--valence", "0.7"]);

    let cell = SessionCell::default();
    cell.restore(Session {
        seed: 7,
        ..Session::default()
    });
    let factory: SourceFactory = Box::new(|dir| match NeuralSource::load(dir) {
        Ok(source) => Ok(Box::new(source) as Box<dyn PhraseSource>),
        Err(e) => Err(e.to_string()),
    });
    let (_worker, mut ends) =
        Worker::spawn(cell, Arc::default(), Views::new(), factory).expect("worker");
    let knobs = Knobs {
        energy: 0.3,
        valence: 0.7,
        ..Knobs::default()
    };
    ends.request(Request::new(RequestKind::Vary, knobs))
        .expect("request");
    let started = Instant::now();
    let phrase = loop {
        if let Some(p) = ends.next_phrase() {
            break p;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the worker wrote nothing"
        );
        std::thread::sleep(Duration::from_millis(2));
    };
    assert_eq!(phrase.bars(), 4);
    assert_eq!(midi_file(&phrase, &ExportSettings::default()), cli);
    // Swing and humanize are really on by default: some melody onset is off the straight
    // eighth grid (960 PPQ: multiples of 480 ticks).
    let midi = parse(&cli);
    assert!(notes(&midi.events[3]).iter().any(|n| n.0 % 480 != 0));
    // And the drums are written with the phrase: a Drums track on channel 10 (index 9), with
    // a kick (General MIDI 36) on the first beat of bar 1.
    assert_eq!(
        midi.names,
        ["Lofi Loom", "Chords", "Bass", "Melody", "Drums"]
    );
    let drums = notes(&midi.events[4]);
    assert!(!drums.is_empty() && drums.iter().all(|n| n.4 == 9));
    assert!(drums.iter().any(|n| n.0 < 60 && n.2 == 36), "{drums:?}");
}

/// FNV-1a, 64 bits: a short fingerprint of a file's bytes.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// A `.wav` output is the built-in band playing the phrase: a 48 kHz, 24-bit stereo WAV file
/// of the loops and their tail, the same bytes every time.
///
/// The fingerprint pins those bytes. It was recorded from this command's output when the WAV
/// render was added (x86_64 Linux, glibc 2.36) and checked by ear and by its measured loudness,
/// peak and decay (see README, Performance): it is a regression pin, not an independent
/// computation. A change to the band, the drums, the decoder or the renderer that changes the
/// sound changes it; update it deliberately, saying why.
#[test]
fn a_wav_file_is_the_band_playing_the_phrase_the_same_bytes_every_time() {
    let args = README_RENDER;
    let dir = temp_dir("wav");
    let (a, b) = (dir.file("a.wav"), dir.file("b.WAV"));
    for out in [&a, &b] {
        let mut all = vec!["render"];
        all.extend_from_slice(&args);
        all.extend_from_slice(&["-o", out]);
        let run = lofi(&all);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(
            run.stderr.contains("48 kHz 24-bit stereo"),
            "{}",
            run.stderr
        );
    }
    let bytes = std::fs::read(&a).expect("the WAV file");
    assert_eq!(bytes, std::fs::read(&b).expect("the second WAV file"));
    // RIFF/WAVE with a 24-bit stereo 48 kHz format chunk.
    assert_eq!(&bytes[..4], b"RIFF");
    assert_eq!(&bytes[8..12], b"WAVE");
    let fmt = bytes
        .windows(4)
        .position(|w| w == b"fmt ")
        .expect("a format chunk");
    let field = |at: usize, len: usize| {
        bytes[fmt + 8 + at..fmt + 8 + at + len]
            .iter()
            .rev()
            .fold(0u32, |v, &b| v << 8 | u32::from(b))
    };
    assert_eq!((field(2, 2), field(4, 4), field(14, 2)), (2, 48_000, 24));
    // 8 bars at 82 BPM: 8 × 4 × 60 / 82 s = 23.41 s, and a tail of at most 4 s.
    let data = bytes
        .windows(4)
        .position(|w| w == b"data")
        .expect("a data chunk");
    let len = u32::from_le_bytes(bytes[data + 4..data + 8].try_into().unwrap()) as usize;
    let seconds = len as f64 / 6.0 / 48_000.0;
    assert!((23.41..27.5).contains(&seconds), "{seconds} s");
    // Recorded from the render that was listened to and measured when the WAV output landed
    // (peak −6.5 dBFS, RMS −17.4 dBFS, |DC| < 1e-5, below −90 dBFS 1 s after the loop); the
    // release build writes the same bytes. A change to the band or the phrase changes it.
    assert_eq!(
        fnv1a(&bytes),
        5_488_087_270_145_015_050,
        "the fingerprint of the WAV render"
    );
}

/// The kit hears drum keys as the sounds they stand for: a chromatic key map sends other MIDI
/// keys but the WAV is the same, byte for byte.
#[test]
fn the_built_in_kit_plays_the_same_drums_whatever_the_key_map() {
    let dir = temp_dir("wav-kit");
    let mut files = vec![];
    for kit in ["gm", "chromatic"] {
        let out = dir.file(&format!("{kit}.wav"));
        let run = lofi(&[
            "render", "--seed", "11", "--bars", "2", "--energy", "0.9", "--kit", kit, "-o", &out,
        ]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        files.push(std::fs::read(&out).expect("the WAV file"));
    }
    assert_eq!(files[0].len(), files[1].len());
    assert!(files[0] == files[1], "the chromatic map changed the sound");
    // And the drums are in it: without them the file differs.
    let out = dir.file("none.wav");
    let run = lofi(&[
        "render",
        "--seed",
        "11",
        "--bars",
        "2",
        "--energy",
        "0.9",
        "--no-drums",
        "-o",
        &out,
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(std::fs::read(&out).expect("the WAV file") != files[0]);
}
