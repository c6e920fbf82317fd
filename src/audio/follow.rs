//! Follow: the plugin listening to the musician's notes on the audio thread, and what it tells
//! the next phrase request. Owned by the audio thread; fixed-size state, bounded loops, no
//! allocation.
//!
//! * **Key**: every input note adds its held duration in beats to a
//!   [`KeyEstimator`] when it ends; each host bar line closes the estimator's bar. The
//!   estimate is read at bar lines only, so a request follows a key change at most once a bar;
//!   it fills the Key and Mode knobs that are set to Auto.
//! * **Chords**: the sounding pitch classes (all channels, the lowest key as the bass hint)
//!   are recognised whenever they change; a reading below [`MIN_CONFIDENCE`] counts as no
//!   chord. Per host bar, the time each chord (root and quality) sounds is added up in a
//!   table of [`BAR_CANDIDATES`]; at the bar line the longest held one becomes that bar's
//!   chord, if it sounded for [`MIN_BAR_CHORD_BEATS`] at least. A bar in which notes start but
//!   no chord is recognised (a cluster, a single line) keeps the last chord heard; a bar in
//!   which no note starts and no chord sounds that long changes nothing (a chord let go a
//!   little after the bar line does not start a new capture). Bars are counted from phrase
//!   boundaries (song bar `b` is phrase bar `b mod length`, as the sequencer aligns phrases),
//!   and at the end of each phrase in which something was played the bars heard become the
//!   captured progression. It stays in use, phrase after phrase, until the musician plays
//!   again or presses Regenerate ([`Follow::forget_chords`]); every request also carries it for
//!   the worker to save with the session, and activation gives a saved one back
//!   ([`Follow::restore_captured`]). The request carries the chords
//!   as numerals ([`to_numeral`]) in the key the phrase is written in: the Key and Mode knobs,
//!   else the estimate, else C Ionian; bars never heard are left to the decoder.
//! * A transport that stops, seeks or loops drops the bar being listened to (its notes still
//!   count for the key).

use super::sequencer::{BarClock, TransportSnapshot};
use crate::bridge::views::ListenView;
use crate::music::harmony::{recognize, to_numeral, HeardChord, KeyEstimator};
use crate::music::knobs::Knobs;
use crate::music::progression::{Mode, MAX_BARS};

/// Least confidence of a chord reading that counts as a chord (triads, sevenths and their
/// usual extensions pass; dyads and coin-flips do not: see `music::harmony`).
pub const MIN_CONFIDENCE: f32 = 0.6;
/// Least time a chord must sound in a bar to be the bar's chord, in beats (an eighth note).
pub const MIN_BAR_CHORD_BEATS: f64 = 0.5;
/// Different chords one bar keeps the time of; more are not counted.
pub const BAR_CANDIDATES: usize = 8;
/// A block starting this many samples away from where the last one ended is a jump.
const JUMP_SAMPLES: f64 = 64.0;
/// Bar lines handled inside one block at most (keeps the loop bounded at absurd tempos).
const MAX_BAR_LINES_PER_BLOCK: usize = 64;
/// Samples per beat assumed when the host gives no tempo (120 BPM at 48 kHz).
const FALLBACK_SAMPLES_PER_BEAT: f64 = 24_000.0;

/// What the plugin follows (the Follow parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FollowMode {
    /// Nothing: the input is only passed through.
    #[default]
    Off,
    /// The key and mode of what is played.
    Key,
    /// The key, and the chord of each bar.
    Chords,
    /// As Chords, and while a chord is held the bass and melody follow it at once
    /// (`audio::live`).
    Live,
}

impl FollowMode {
    /// Whether the chords of each bar are captured for the next phrase.
    pub fn captures_chords(self) -> bool {
        matches!(self, FollowMode::Chords | FollowMode::Live)
    }
}

/// A chord's identity for the per-bar tally: root and quality (extensions do not count).
fn same_chord(a: &HeardChord, b: &HeardChord) -> bool {
    a.root == b.root && a.quality == b.quality
}

/// The listener; see the module docs.
#[derive(Debug, Clone)]
pub struct Follow {
    /// What is followed.
    mode: FollowMode,
    /// The rolling key estimate.
    estimator: KeyEstimator,
    /// The estimate as of the last bar line.
    key: Option<(u8, Mode)>,
    /// This block's bar grid (None: stopped).
    clock: Option<BarClock>,
    /// Samples per beat, for held durations (the host's tempo when known).
    samples_per_beat: f64,
    /// The song bar being listened to (None: none, e.g. stopped).
    bar: Option<i64>,
    /// Where the next block should start, in bars (to notice jumps).
    expected_start_bars: Option<f64>,
    /// Position in the block up to which time has been counted, in samples.
    counted_to: u32,
    /// The chord sounding now, if one is recognised.
    current: Option<HeardChord>,
    /// The pitch classes sounding now (bit k = pitch class k).
    mask: u16,
    /// Whether a note started in this bar (a pitch class joined the sounding ones).
    bar_notes: bool,
    /// This bar's chords and the samples each sounded.
    tally: [Option<(HeardChord, u64)>; BAR_CANDIDATES],
    /// The last chord heard in a closed bar.
    last_heard: Option<HeardChord>,
    /// The chords of the phrase being listened to, bar by bar.
    working: [Option<HeardChord>; MAX_BARS],
    /// Whether anything was played in the phrase being listened to.
    played_in_phrase: bool,
    /// The captured progression (empty: nothing captured).
    captured: [Option<HeardChord>; MAX_BARS],
    /// How many bars the captured progression has (0: nothing captured).
    captured_bars: u32,
    /// The phrase length in bars (phrase bar `i` is song bar `b` with `b mod length = i`).
    phrase_bars: u32,
}

impl Default for Follow {
    fn default() -> Self {
        Follow {
            mode: FollowMode::Off,
            estimator: KeyEstimator::new(),
            key: None,
            clock: None,
            samples_per_beat: FALLBACK_SAMPLES_PER_BEAT,
            bar: None,
            expected_start_bars: None,
            counted_to: 0,
            current: None,
            mask: 0,
            bar_notes: false,
            tally: [None; BAR_CANDIDATES],
            last_heard: None,
            working: [None; MAX_BARS],
            played_in_phrase: false,
            captured: [None; MAX_BARS],
            captured_bars: 0,
            phrase_bars: 4,
        }
    }
}

impl Follow {
    /// Starts a block: what to follow, the transport, and the phrase length in bars.
    pub fn begin_block(
        &mut self,
        mode: FollowMode,
        transport: &TransportSnapshot,
        block_samples: u32,
        phrase_bars: u32,
    ) {
        self.mode = mode;
        self.counted_to = 0;
        self.phrase_bars = phrase_bars.clamp(1, MAX_BARS as u32);
        self.clock = BarClock::of(transport);
        let Some(clock) = self.clock else {
            self.bar = None;
            self.expected_start_bars = None;
            return;
        };
        self.samples_per_beat = clock.samples_per_beat;
        let jumped = self.expected_start_bars.is_none_or(|expected| {
            ((clock.start_bars - expected) * clock.samples_per_bar).abs() > JUMP_SAMPLES
        });
        if jumped {
            // Start listening to the bar the block is in, from here.
            self.open_bar(clock.start_bars.floor() as i64);
        }
        self.expected_start_bars =
            Some(clock.start_bars + f64::from(block_samples) / clock.samples_per_bar);
        self.phrase_bars = phrase_bars.clamp(1, MAX_BARS as u32);
    }

    /// Counts the time up to sample `timing` of the block (closing the bar lines on the way):
    /// call before applying an input event there, and with the block's length at its end.
    pub fn advance_to(&mut self, timing: u32) {
        if self.mode != FollowMode::Off {
            self.count_to(timing);
        }
    }

    /// An input note of `key` ended after sounding `held_samples`: evidence for the key.
    pub fn note_ended(&mut self, key: u8, held_samples: u64) {
        if self.mode == FollowMode::Off {
            return;
        }
        let beats = held_samples as f64 / self.samples_per_beat.max(1.0);
        self.estimator.add(key % 12, beats as f32);
    }

    /// What sounds now, after an input event: the pitch classes (bit k = pitch class k) and
    /// the lowest key.
    pub fn sounding(&mut self, pitch_classes: u16, lowest: Option<u8>) {
        if self.mode == FollowMode::Off {
            return;
        }
        self.bar_notes |= pitch_classes & !self.mask != 0;
        self.mask = pitch_classes;
        self.current = recognize(pitch_classes, lowest.map(|k| k % 12))
            .filter(|c| c.confidence >= MIN_CONFIDENCE);
    }

    /// Forgets the captured progression (Regenerate was pressed): the next phrase is free.
    pub fn forget_chords(&mut self) {
        self.captured = [None; MAX_BARS];
        self.captured_bars = 0;
        self.working = [None; MAX_BARS];
        self.last_heard = None;
        self.played_in_phrase = false;
    }

    /// Puts back a captured progression saved with the session (main thread, at activation,
    /// with the Follow parameter's `mode`, which blocks otherwise bring): it is used as if just
    /// captured, until the musician plays again or presses Regenerate.
    pub fn restore_captured(
        &mut self,
        mode: FollowMode,
        captured: &[Option<HeardChord>; MAX_BARS],
    ) {
        self.mode = mode;
        self.captured = *captured;
        self.captured_bars = captured
            .iter()
            .rposition(Option::is_some)
            .map_or(0, |i| i + 1) as u32;
        self.working = self.captured;
        self.last_heard = captured.iter().flatten().last().copied();
        self.played_in_phrase = false;
    }

    /// The captured progression, bar by bar (None: not heard).
    pub fn captured(&self) -> &[Option<HeardChord>; MAX_BARS] {
        &self.captured
    }

    /// The key estimate as of the last bar line.
    pub fn key(&self) -> Option<(u8, Mode)> {
        self.key
    }

    /// The chord held now, if one is recognised and the mode is Live.
    pub fn held(&self) -> Option<HeardChord> {
        self.current.filter(|_| self.mode == FollowMode::Live)
    }

    /// This block's bar grid (None: stopped).
    pub fn clock(&self) -> Option<BarClock> {
        self.clock
    }

    /// What the editor shows of the listener (audio thread: a copy, no allocation).
    pub fn view(&self) -> ListenView {
        let len = i64::from(self.phrase_bars);
        ListenView {
            mode: self.mode,
            heard: self.current.filter(|_| self.mode != FollowMode::Off),
            key: self.key,
            bar: self.bar.map(|b| b.rem_euclid(len) as u32),
            phrase_bars: self.phrase_bars,
            listening: self.played_in_phrase || self.bar_notes,
            working: self.working,
            captured: self.captured,
            captured_bars: self.captured_bars,
        }
    }

    /// `knobs` with what is followed filled in (see the module docs): the estimated key and
    /// mode where they are Auto, and the captured chords.
    pub fn knobs(&self, mut knobs: Knobs) -> Knobs {
        if self.mode == FollowMode::Off {
            return knobs;
        }
        if let Some((tonic, mode)) = self.key {
            if knobs.key.is_none() {
                knobs.key = Some(tonic);
            }
            if knobs.mode.is_none() && knobs.key == Some(tonic) {
                knobs.mode = Some(mode);
            }
        }
        if self.mode.captures_chords() && self.captured.iter().any(Option::is_some) {
            let key = *knobs.key.get_or_insert(0);
            let mode = *knobs.mode.get_or_insert(Mode::Ionian);
            let bars = (knobs.bars as usize).min(MAX_BARS);
            for (i, (slot, heard)) in knobs
                .heard_chords
                .iter_mut()
                .zip(&self.captured)
                .enumerate()
            {
                *slot = heard
                    .filter(|_| i < bars)
                    .map(|h| to_numeral(&h, key, mode));
            }
        }
        knobs
    }

    /// Counts the time up to `to` (a sample offset in the block) for the chord sounding,
    /// closing every bar line on the way.
    fn count_to(&mut self, to: u32) {
        let Some(clock) = self.clock else {
            return;
        };
        let to = to.max(self.counted_to);
        for _ in 0..MAX_BAR_LINES_PER_BLOCK {
            let Some(bar) = self.bar else {
                return;
            };
            let line = clock.offset_of_bar((bar + 1) as f64).max(0.0);
            if line > f64::from(to) {
                break;
            }
            let line = line as u32;
            self.tally_to(line);
            self.close_bar(bar);
            self.open_bar(bar + 1);
            self.counted_to = line;
        }
        self.tally_to(to);
    }

    /// Adds the time from `counted_to` to `to` to the sounding chord.
    fn tally_to(&mut self, to: u32) {
        let samples = u64::from(to.saturating_sub(self.counted_to));
        self.counted_to = self.counted_to.max(to);
        let Some(chord) = self.current else {
            return;
        };
        if samples == 0 {
            return;
        }
        if let Some((_, n)) = self
            .tally
            .iter_mut()
            .flatten()
            .find(|(c, _)| same_chord(c, &chord))
        {
            *n += samples;
        } else if let Some(free) = self.tally.iter_mut().find(|t| t.is_none()) {
            *free = Some((chord, samples));
        }
    }

    /// Starts listening to song bar `bar`.
    fn open_bar(&mut self, bar: i64) {
        self.bar = Some(bar);
        self.tally = [None; BAR_CANDIDATES];
        self.bar_notes = false;
    }

    /// Closes song bar `bar`: the key estimator's bar, the bar's chord, and at a phrase end
    /// the captured progression.
    fn close_bar(&mut self, bar: i64) {
        self.estimator.end_bar();
        self.key = self.estimator.key();
        let len = i64::from(self.phrase_bars);
        let i = bar.rem_euclid(len) as usize;
        // Longest held, if for an eighth note at least (a chord let go a little after the bar
        // line does not count for the new bar); ties go to the chord heard first.
        let least = (self.samples_per_beat * MIN_BAR_CHORD_BEATS) as u64;
        let mut best: Option<(HeardChord, u64)> = None;
        for (chord, n) in self.tally.iter().flatten().filter(|(_, n)| *n >= least) {
            if best.is_none_or(|(_, m)| *n > m) {
                best = Some((*chord, *n));
            }
        }
        if let Some((chord, _)) = best {
            self.working[i] = Some(chord);
            self.last_heard = Some(chord);
            self.played_in_phrase = true;
        } else if self.bar_notes {
            if self.last_heard.is_some() {
                self.working[i] = self.last_heard;
            }
            self.played_in_phrase = true;
        }
        if i + 1 == len as usize {
            if self.played_in_phrase {
                self.captured = [None; MAX_BARS];
                self.captured[..len as usize].copy_from_slice(&self.working[..len as usize]);
                self.captured_bars = len as u32;
            }
            self.played_in_phrase = false;
            self.working = self.captured;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::sim::SimTransport;
    use crate::music::progression::{Chord, Quality};

    /// 48 kHz at 120 BPM: 96 000 samples per 4/4 bar.
    const BAR: u32 = 96_000;

    fn mask(keys: &[u8]) -> u16 {
        keys.iter().fold(0, |m, k| m | 1 << (k % 12))
    }

    /// Plays `bars` (one chord per bar, held the whole bar, in 1000-sample blocks) from song
    /// bar 0, then one more block past the last bar line.
    fn play(follow: &mut Follow, mode: FollowMode, bars: &[&[u8]]) {
        let mut t = SimTransport::new(48_000.0, 120.0);
        t.playing = true;
        let block = 1000;
        let total = bars.len() as u32 * BAR + block;
        let mut done = 0;
        while done < total {
            follow.begin_block(mode, &t.snapshot(), block, bars.len() as u32);
            let bar = (done / BAR) as usize;
            if done % BAR == 0 && bar <= bars.len() {
                follow.advance_to(0);
                if bar > 0 {
                    for k in bars[bar - 1] {
                        follow.note_ended(*k, u64::from(BAR));
                    }
                }
                match bars.get(bar) {
                    Some(keys) => follow.sounding(mask(keys), keys.iter().min().copied()),
                    None => follow.sounding(0, None),
                }
            }
            follow.advance_to(block);
            t.advance(block);
            done += block;
        }
    }

    fn chord(degree: u8, quality: Quality) -> Option<Chord> {
        Some(Chord {
            degree,
            shift: 0,
            quality,
        })
    }

    #[test]
    fn a_two_five_one_six_becomes_the_next_phrases_chords() {
        let mut f = Follow::default();
        // Dm7, G7 (shell plus fifth), Cmaj7 over E, Am7 (a Dm7 over F would be F6: the
        // documented tie rule).
        let bars: [&[u8]; 4] = [
            &[50, 57, 60, 65],
            &[43, 53, 59, 62],
            &[52, 55, 59, 60],
            &[45, 55, 60, 64],
        ];
        play(&mut f, FollowMode::Chords, &bars);
        assert_eq!(f.key(), Some((0, Mode::Ionian)));
        let knobs = f.knobs(Knobs::default());
        assert_eq!((knobs.key, knobs.mode), (Some(0), Some(Mode::Ionian)));
        assert_eq!(
            knobs.heard_chords[..4],
            [
                chord(2, Quality::Minor7),
                chord(5, Quality::Dominant7),
                chord(1, Quality::Major7),
                chord(6, Quality::Minor7)
            ]
        );
        assert!(knobs.heard_chords[4..].iter().all(Option::is_none));
        // Silence keeps the capture; Regenerate forgets it.
        play(&mut f, FollowMode::Chords, &[&[], &[], &[], &[]]);
        assert_eq!(
            f.knobs(Knobs::default()).heard_chords[0],
            chord(2, Quality::Minor7)
        );
        f.forget_chords();
        assert!(f
            .knobs(Knobs::default())
            .heard_chords
            .iter()
            .all(Option::is_none));
    }

    #[test]
    fn the_view_shows_the_bar_listened_to_and_the_capture() {
        let mut f = Follow::default();
        let bars: [&[u8]; 4] = [
            &[50, 57, 60, 65],
            &[43, 53, 59, 62],
            &[48, 52, 55, 59],
            &[45, 55, 60, 64],
        ];
        // Three bars, then into the fourth (the Am7 sounding).
        play(&mut f, FollowMode::Chords, &bars[..3]);
        f.sounding(mask(bars[3]), Some(45));
        let view = f.view();
        assert_eq!(
            (view.mode, view.bar, view.phrase_bars),
            (FollowMode::Chords, Some(0), 3)
        );
        assert_eq!(view.captured_bars, 3);
        assert_eq!(
            view.heard.map(|c| (c.root, c.quality)),
            Some((9, Quality::Minor7))
        );
        // Four bars: captured, and after a bar of silence the view says so.
        let mut f = Follow::default();
        play(&mut f, FollowMode::Chords, &bars);
        let view = f.view();
        assert_eq!(view.captured_bars, 4);
        let roots: Vec<_> = view.captured[..4]
            .iter()
            .map(|c| c.map(|c| c.root))
            .collect();
        assert_eq!(roots, [Some(2), Some(7), Some(0), Some(9)]);
        assert_eq!(
            (view.bar, view.listening, view.heard),
            (Some(0), false, None)
        );
        // Playing again: listening; Regenerate forgets the capture.
        f.sounding(mask(bars[0]), Some(50));
        assert!(f.view().listening);
        f.forget_chords();
        assert_eq!(f.view().captured_bars, 0);
        assert!(f.view().captured.iter().all(Option::is_none));
    }

    #[test]
    fn a_chord_let_go_just_after_the_bar_line_does_not_capture_again() {
        let mut f = Follow::default();
        let bars: [&[u8]; 2] = [&[50, 57, 60, 65], &[43, 53, 59, 62]];
        play(&mut f, FollowMode::Chords, &bars);
        let captured = *f.captured();
        assert_eq!(f.view().captured_bars, 2);
        // Play on from bar 2 with the G7 still held for 2 400 samples (50 ms), then silence.
        let mut t = SimTransport::new(48_000.0, 120.0);
        t.playing = true;
        t.advance(2 * BAR);
        f.sounding(mask(bars[1]), Some(43));
        for i in 0..(2 * BAR / 1000 + 1) {
            f.begin_block(FollowMode::Chords, &t.snapshot(), 1000, 2);
            if i == 2 {
                f.advance_to(400);
                f.sounding(0, None);
            }
            f.advance_to(1000);
            t.advance(1000);
        }
        assert_eq!(*f.captured(), captured);
        assert!(!f.view().listening);
    }

    #[test]
    fn a_cluster_keeps_the_previous_chord_and_key_mode_writes_no_chords() {
        let mut f = Follow::default();
        let bars: [&[u8]; 2] = [&[57, 60, 64, 67], &[60, 61, 62]];
        play(&mut f, FollowMode::Chords, &bars);
        let knobs = f.knobs(Knobs::default());
        let key = knobs.key.expect("a key");
        let mode = knobs.mode.expect("a mode");
        let am7 = to_numeral(
            &recognize(mask(&[57, 60, 64, 67]), Some(9)).expect("Am7"),
            key,
            mode,
        );
        assert_eq!(knobs.heard_chords[..2], [Some(am7), Some(am7)]);
        let mut k = Follow::default();
        play(&mut k, FollowMode::Key, &bars);
        assert!(k
            .knobs(Knobs::default())
            .heard_chords
            .iter()
            .all(Option::is_none));
    }

    #[test]
    fn a_fixed_key_wins_and_off_changes_nothing() {
        let mut f = Follow::default();
        play(
            &mut f,
            FollowMode::Key,
            &[&[57, 60, 64], &[50, 53, 57], &[52, 56, 59], &[57, 60, 64]],
        );
        let est = f.key().expect("an estimate");
        assert_eq!(est.0, 9);
        let fixed = Knobs {
            key: Some(2),
            ..Knobs::default()
        };
        assert_eq!(f.knobs(fixed).key, Some(2));
        assert_eq!(f.knobs(fixed).mode, None);
        let mut off = Follow::default();
        play(&mut off, FollowMode::Off, &[&[57, 60, 64]]);
        assert_eq!(off.knobs(Knobs::default()), Knobs::default());
    }
}
