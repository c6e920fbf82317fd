//! What the editor sees of the engine, and how it asks the worker for things.
//!
//! Three writers, one reader:
//! - the **audio thread** stores plain numbers in atomics (which phrase plays, which is queued,
//!   where the cursor is, the host tempo and time signature, and what Follow hears: see
//!   [`ListenView`]), and each note event it sends into the performance ring ([`Recorder`])
//!   — never a lock, never an allocation;
//! - the **worker** publishes each phrase it sends as a [`PhraseView`] (a mutex shared only
//!   with the editor; the audio thread never touches it);
//! - the **editor** reads both and sends [`EditorToWorker`] commands to the worker through a
//!   bounded, mutex'd inbox (neither side is real-time).
//!
//! Phrases are matched by id: every rendered [`Phrase`] carries the id of its view.

use super::lock;
use super::messages::{EditorToWorker, EDITOR_INBOX_CAPACITY};
use super::recent::Recorder;
use crate::audio::follow::FollowMode;
use crate::music::harmony::HeardChord;
use crate::music::knobs::Knobs;
use crate::music::phrase::Phrase;
use crate::music::progression::{Mode, Progression, Quality, MAX_BARS};
use atomic_float::AtomicF64;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// How many recent phrase views are kept (playing, queued, and a few older ones).
pub const RECENT_VIEWS: usize = 8;

/// Id meaning "no phrase".
pub const NO_PHRASE: u64 = 0;

/// One phrase the engine rendered, as the editor shows and exports it.
#[derive(Debug, Clone, PartialEq)]
pub struct PhraseView {
    /// Matches [`Phrase::id`] of the phrase the sequencer holds.
    pub id: u64,
    /// The seed it was written and humanized with.
    pub seed: u64,
    /// The progression as played (key and mode overrides applied).
    pub progression: Progression,
    /// The parameter values it was rendered with.
    pub knobs: Knobs,
    /// The rendered notes (a copy: the editor may keep it as long as it likes).
    pub phrase: Phrase,
}

/// Host transport as the audio thread last saw it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HostView {
    /// Whether the transport is playing.
    pub playing: bool,
    /// Tempo in BPM, if the host reports one.
    pub tempo_bpm: Option<f64>,
    /// Time signature, if the host reports one.
    pub time_sig: Option<(u8, u8)>,
    /// Position in the playing phrase, in bars from its start (None when stopped).
    pub cursor_bars: Option<f64>,
}

/// What Follow hears, as the audio thread last stored it (see `audio::follow`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ListenView {
    /// What is followed.
    pub mode: FollowMode,
    /// The chord sounding now, if one is recognised (its confidence is not kept: 1.0).
    pub heard: Option<HeardChord>,
    /// The key estimate as of the last bar line.
    pub key: Option<(u8, Mode)>,
    /// The phrase bar being listened to, 0-based (None: stopped).
    pub bar: Option<u32>,
    /// The phrase length in bars the listener counts with.
    pub phrase_bars: u32,
    /// Whether something was played in the phrase being listened to (it will replace the
    /// captured progression at the phrase's end).
    pub listening: bool,
    /// The chords of the phrase being listened to, bar by bar (bars not played yet keep the
    /// captured ones).
    pub working: [Option<HeardChord>; MAX_BARS],
    /// The captured progression, bar by bar (None: not heard).
    pub captured: [Option<HeardChord>; MAX_BARS],
    /// How many bars the captured progression has (0: nothing captured).
    pub captured_bars: u32,
}

impl Default for ListenView {
    fn default() -> Self {
        ListenView {
            mode: FollowMode::Off,
            heard: None,
            key: None,
            bar: None,
            phrase_bars: 4,
            listening: false,
            working: [None; MAX_BARS],
            captured: [None; MAX_BARS],
            captured_bars: 0,
        }
    }
}

/// Bit set in every packed chord (0 means "no chord").
const CHORD_PRESENT: u32 = 1 << 31;

/// A heard chord as one `u32`: intervals in bits 0–11, root 12–15, bass 16–19, quality 20–22,
/// bit 31 set. None is 0. Confidence is not kept.
pub fn pack_chord(chord: Option<HeardChord>) -> u32 {
    chord.map_or(0, |c| {
        CHORD_PRESENT
            | u32::from(c.intervals & 0x0FFF)
            | u32::from(c.root % 12) << 12
            | u32::from(c.bass % 12) << 16
            | (c.quality.index() as u32) << 20
    })
}

/// The inverse of [`pack_chord`] (confidence 1.0); None for 0 or a malformed value.
pub fn unpack_chord(packed: u32) -> Option<HeardChord> {
    if packed & CHORD_PRESENT == 0 {
        return None;
    }
    let root = (packed >> 12 & 0xF) as u8;
    let bass = (packed >> 16 & 0xF) as u8;
    let quality = *Quality::ALL.get((packed >> 20 & 0x7) as usize)?;
    (root < 12 && bass < 12).then_some(HeardChord {
        root,
        quality,
        bass,
        confidence: 1.0,
        intervals: (packed & 0x0FFF) as u16,
    })
}

/// A key as one `u32`: tonic in bits 0–3, mode 4–6, bit 8 set. None is 0.
fn pack_key(key: Option<(u8, Mode)>) -> u32 {
    key.map_or(0, |(tonic, mode)| {
        1 << 8 | u32::from(tonic % 12) | (mode.index() as u32) << 4
    })
}

/// The inverse of [`pack_key`].
fn unpack_key(packed: u32) -> Option<(u8, Mode)> {
    if packed & 1 << 8 == 0 {
        return None;
    }
    let tonic = (packed & 0xF) as u8;
    let mode = *Mode::ALL.get((packed >> 4 & 0x7) as usize)?;
    (tonic < 12).then_some((tonic, mode))
}

/// The listener's state as one `u32`: mode in bits 0–1, phrase bars 4–7, listened bar + 1
/// 8–11 (0: none), captured bars 12–15, bit 16 listening.
fn pack_state(view: &ListenView) -> u32 {
    let mode = match view.mode {
        FollowMode::Off => 0,
        FollowMode::Key => 1,
        FollowMode::Chords => 2,
        FollowMode::Live => 3,
    };
    mode | (view.phrase_bars & 0xF) << 4
        | view.bar.map_or(0, |b| (b + 1) & 0xF) << 8
        | (view.captured_bars & 0xF) << 12
        | u32::from(view.listening) << 16
}

/// Packed atomics of a [`ListenView`] (audio thread writes, editor reads).
#[derive(Debug, Default)]
struct ListenCells {
    /// [`pack_state`].
    state: AtomicU32,
    /// [`pack_chord`] of the chord heard now.
    heard: AtomicU32,
    /// [`pack_key`] of the key estimate.
    key: AtomicU32,
    /// [`pack_chord`] of each bar of the phrase listened to.
    working: [AtomicU32; MAX_BARS],
    /// [`pack_chord`] of each bar of the captured progression.
    captured: [AtomicU32; MAX_BARS],
}

/// Shared between the audio thread, the worker and the editor; see the module docs.
#[derive(Debug, Default)]
pub struct Views {
    /// Recent phrase views, oldest first (worker writes, editor reads).
    recent: Mutex<VecDeque<Arc<PhraseView>>>,
    /// Source of phrase ids.
    next_id: AtomicU64,
    /// Id of the phrase playing ([`NO_PHRASE`] if none).
    playing_id: AtomicU64,
    /// Id of the phrase waiting for its bar line ([`NO_PHRASE`] if none).
    queued_id: AtomicU64,
    /// Cursor in bars; NaN when stopped.
    cursor_bars: AtomicF64,
    /// Tempo in BPM; NaN when unknown.
    tempo_bpm: AtomicF64,
    /// Time signature as `numerator << 8 | denominator`; 0 when unknown.
    time_sig: AtomicU32,
    /// Whether the transport plays.
    playing: AtomicBool,
    /// What Follow hears (audio thread writes).
    listen: ListenCells,
    /// Commands from the editor to the worker.
    inbox: Mutex<VecDeque<EditorToWorker>>,
    /// Counts commands ever sent (lets tests and the editor see that one was taken).
    commands_sent: AtomicU64,
    /// The note events the host received, for "Last N bars" exports (audio thread writes,
    /// editor reads; see [`Recorder`]).
    performance: Recorder,
    /// The candidates not chosen for the latest new seed, closest to the knobs first
    /// (worker writes, editor reads; `id` is 0: they are not playing).
    alternatives: Mutex<Arc<Vec<PhraseView>>>,
}

impl Views {
    /// A fresh set of views.
    pub fn new() -> Arc<Views> {
        let views = Views::default();
        views.cursor_bars.store(f64::NAN, Ordering::Relaxed);
        views.tempo_bpm.store(f64::NAN, Ordering::Relaxed);
        views.store_listening(&ListenView::default());
        Arc::new(views)
    }

    /// Replaces the alternatives (worker).
    pub fn store_alternatives(&self, alternatives: Vec<PhraseView>) {
        *lock(&self.alternatives) = Arc::new(alternatives);
    }

    /// The alternatives to the phrase written for the latest new seed (editor).
    pub fn alternatives(&self) -> Arc<Vec<PhraseView>> {
        lock(&self.alternatives).clone()
    }

    /// The performance recorder (the ring is made at activation).
    pub fn performance(&self) -> &Recorder {
        &self.performance
    }

    /// A new phrase id (never [`NO_PHRASE`]).
    pub fn next_phrase_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Publishes a rendered phrase (worker or main thread; may allocate).
    ///
    /// Keeps at most [`RECENT_VIEWS`] views, dropping the oldest first, but never the ones the
    /// sequencer plays or holds queued: a burst of re-renders (a Swing drag) must not leave
    /// the editor showing, or exporting, a phrase that is not the one playing.
    pub fn publish(&self, view: PhraseView) {
        let playing = self.playing_id.load(Ordering::Acquire);
        let queued = self.queued_id.load(Ordering::Acquire);
        let mut recent = lock(&self.recent);
        while recent.len() >= RECENT_VIEWS {
            let oldest_spare = recent
                .iter()
                .position(|v| v.id != playing && v.id != queued);
            match oldest_spare {
                Some(i) => {
                    recent.remove(i);
                }
                None => break,
            }
        }
        recent.push_back(Arc::new(view));
    }

    /// The view with this id, if it is still kept.
    pub fn phrase(&self, id: u64) -> Option<Arc<PhraseView>> {
        if id == NO_PHRASE {
            return None;
        }
        lock(&self.recent)
            .iter()
            .rev()
            .find(|v| v.id == id)
            .cloned()
    }

    /// The phrase playing (or, before the first swap, the latest one sent).
    pub fn playing(&self) -> Option<Arc<PhraseView>> {
        self.phrase(self.playing_id.load(Ordering::Acquire))
    }

    /// The phrase waiting for its bar line, if any.
    pub fn queued(&self) -> Option<Arc<PhraseView>> {
        self.phrase(self.queued_id.load(Ordering::Acquire))
    }

    /// The newest phrase the worker published.
    pub fn latest(&self) -> Option<Arc<PhraseView>> {
        lock(&self.recent).back().cloned()
    }

    /// Host transport as last seen by the audio thread.
    pub fn host(&self) -> HostView {
        let cursor = self.cursor_bars.load(Ordering::Relaxed);
        let tempo = self.tempo_bpm.load(Ordering::Relaxed);
        let sig = self.time_sig.load(Ordering::Relaxed);
        HostView {
            playing: self.playing.load(Ordering::Relaxed),
            tempo_bpm: tempo.is_finite().then_some(tempo),
            time_sig: (sig != 0).then_some(((sig >> 8) as u8, sig as u8)),
            cursor_bars: cursor.is_finite().then_some(cursor),
        }
    }

    /// Audio thread: which phrases the sequencer holds and where it is. Atomics only.
    pub fn store_playback(&self, playing_id: u64, queued_id: u64, host: HostView) {
        self.playing_id.store(playing_id, Ordering::Release);
        self.queued_id.store(queued_id, Ordering::Release);
        self.cursor_bars
            .store(host.cursor_bars.unwrap_or(f64::NAN), Ordering::Relaxed);
        self.tempo_bpm
            .store(host.tempo_bpm.unwrap_or(f64::NAN), Ordering::Relaxed);
        let sig = host.time_sig.map_or(0, |(n, d)| (n as u32) << 8 | d as u32);
        self.time_sig.store(sig, Ordering::Relaxed);
        self.playing.store(host.playing, Ordering::Relaxed);
    }

    /// Audio thread: what Follow hears. Atomics only.
    ///
    /// The fields are stored one by one, so a frame may mix two blocks' values; the editor
    /// shows them for a person, at most one block stale.
    pub fn store_listening(&self, view: &ListenView) {
        let cells = &self.listen;
        cells.heard.store(pack_chord(view.heard), Ordering::Relaxed);
        cells.key.store(pack_key(view.key), Ordering::Relaxed);
        for (cell, chord) in cells.working.iter().zip(&view.working) {
            cell.store(pack_chord(*chord), Ordering::Relaxed);
        }
        for (cell, chord) in cells.captured.iter().zip(&view.captured) {
            cell.store(pack_chord(*chord), Ordering::Relaxed);
        }
        cells.state.store(pack_state(view), Ordering::Release);
    }

    /// What Follow hears, as last stored by the audio thread.
    pub fn listening(&self) -> ListenView {
        let cells = &self.listen;
        let state = cells.state.load(Ordering::Acquire);
        let mode = match state & 0x3 {
            1 => FollowMode::Key,
            2 => FollowMode::Chords,
            3 => FollowMode::Live,
            _ => FollowMode::Off,
        };
        let bar = state >> 8 & 0xF;
        let mut view = ListenView {
            mode,
            heard: unpack_chord(cells.heard.load(Ordering::Relaxed)),
            key: unpack_key(cells.key.load(Ordering::Relaxed)),
            bar: bar.checked_sub(1),
            phrase_bars: (state >> 4 & 0xF).max(1),
            listening: state & 1 << 16 != 0,
            captured_bars: state >> 12 & 0xF,
            ..ListenView::default()
        };
        for (chord, cell) in view.working.iter_mut().zip(&cells.working) {
            *chord = unpack_chord(cell.load(Ordering::Relaxed));
        }
        for (chord, cell) in view.captured.iter_mut().zip(&cells.captured) {
            *chord = unpack_chord(cell.load(Ordering::Relaxed));
        }
        view
    }

    /// Editor: asks the worker to do something.
    ///
    /// A model choice replaces one still waiting (only the last choice matters), so clicking
    /// around never piles up model loads; the inbox holds at most [`EDITOR_INBOX_CAPACITY`] commands,
    /// dropping the oldest.
    pub fn send(&self, command: EditorToWorker) {
        let mut inbox = lock(&self.inbox);
        if matches!(command, EditorToWorker::UseModel { .. }) {
            inbox.retain(|c| !matches!(c, EditorToWorker::UseModel { .. }));
        }
        while inbox.len() >= EDITOR_INBOX_CAPACITY {
            inbox.pop_front();
        }
        inbox.push_back(command);
        drop(inbox);
        self.commands_sent.fetch_add(1, Ordering::AcqRel);
    }

    /// How many commands the editor has sent.
    pub fn commands_sent(&self) -> u64 {
        self.commands_sent.load(Ordering::Acquire)
    }

    /// Worker: the next command, if any.
    pub fn take_command(&self) -> Option<EditorToWorker> {
        lock(&self.inbox).pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::HistoryEntry;
    use std::path::PathBuf;

    fn view(id: u64) -> PhraseView {
        PhraseView {
            id,
            seed: id * 10,
            progression: Progression {
                key: 0,
                mode: Mode::Ionian,
                bars: Vec::new(),
            },
            knobs: Knobs::default(),
            phrase: Phrase::new(1),
        }
    }

    #[test]
    fn what_follow_hears_survives_the_atomics() {
        use crate::music::harmony::recognize;
        let views = Views::new();
        assert_eq!(views.listening(), ListenView::default());
        // Dm9 over F, G7 and an Am7; confidence is not kept.
        let heard = |mask: u16, bass: u8| {
            recognize(mask, Some(bass)).map(|c| HeardChord {
                confidence: 1.0,
                ..c
            })
        };
        let dm9 = heard(0b0010_0011_0101, 2);
        let g7 = heard(0b1000_1010_0100, 7);
        let am7 = heard(0b0010_1001_0001, 9);
        assert!(dm9.is_some() && g7.is_some() && am7.is_some());
        let mut captured = [None; MAX_BARS];
        captured[0] = dm9;
        captured[1] = g7;
        captured[3] = am7;
        let mut working = captured;
        working[0] = g7;
        let view = ListenView {
            mode: FollowMode::Chords,
            heard: dm9,
            key: Some((9, Mode::Aeolian)),
            bar: Some(7),
            phrase_bars: 8,
            listening: true,
            working,
            captured,
            captured_bars: 4,
        };
        views.store_listening(&view);
        assert_eq!(views.listening(), view);
        // Every root, bass and quality packs apart from the others.
        for root in 0..12 {
            for (q, quality) in Quality::ALL.into_iter().enumerate() {
                let c = HeardChord {
                    root,
                    quality,
                    bass: (root + q as u8) % 12,
                    confidence: 1.0,
                    intervals: 0x0FFF ^ (1 << root),
                };
                assert_eq!(unpack_chord(pack_chord(Some(c))), Some(c));
            }
        }
        assert_eq!(pack_chord(None), 0);
        assert_eq!(unpack_chord(0), None);
        // A root of 13 is malformed, not a chord.
        assert_eq!(unpack_chord(CHORD_PRESENT | 13 << 12), None);
        for mode in Mode::ALL {
            assert_eq!(unpack_key(pack_key(Some((11, mode)))), Some((11, mode)));
        }
        let off = ListenView::default();
        views.store_listening(&off);
        assert_eq!(views.listening(), off);
    }

    #[test]
    fn views_are_found_by_id_and_old_ones_are_dropped() {
        let views = Views::new();
        for _ in 0..RECENT_VIEWS + 2 {
            let id = views.next_phrase_id();
            views.publish(view(id));
        }
        assert_eq!(views.latest().map(|v| v.id), Some(RECENT_VIEWS as u64 + 2));
        assert!(views.phrase(1).is_none() && views.phrase(2).is_none());
        assert_eq!(views.phrase(3).map(|v| v.seed), Some(30));
        assert!(views.phrase(NO_PHRASE).is_none());
        views.store_playback(
            4,
            5,
            HostView {
                playing: true,
                tempo_bpm: Some(82.0),
                time_sig: Some((6, 8)),
                cursor_bars: Some(1.25),
            },
        );
        assert_eq!(views.playing().map(|v| v.id), Some(4));
        assert_eq!(views.queued().map(|v| v.id), Some(5));
        assert_eq!(
            views.host(),
            HostView {
                playing: true,
                tempo_bpm: Some(82.0),
                time_sig: Some((6, 8)),
                cursor_bars: Some(1.25),
            }
        );
        let stopped = HostView {
            playing: false,
            tempo_bpm: None,
            time_sig: None,
            cursor_bars: None,
        };
        views.store_playback(NO_PHRASE, NO_PHRASE, stopped);
        assert_eq!(views.host(), stopped);
        assert!(views.playing().is_none());
    }

    #[test]
    fn the_playing_and_queued_views_survive_a_burst_of_new_ones() {
        let views = Views::new();
        let first = views.next_phrase_id();
        views.publish(view(first));
        let second = views.next_phrase_id();
        views.publish(view(second));
        let host = HostView {
            playing: true,
            tempo_bpm: Some(90.0),
            time_sig: Some((4, 4)),
            cursor_bars: Some(0.5),
        };
        views.store_playback(first, second, host);
        for _ in 0..3 * RECENT_VIEWS {
            let id = views.next_phrase_id();
            views.publish(view(id));
        }
        assert_eq!(views.playing().map(|v| v.id), Some(first));
        assert_eq!(views.queued().map(|v| v.id), Some(second));
        let last = 2 + 3 * RECENT_VIEWS as u64;
        assert_eq!(views.latest().map(|v| v.id), Some(last));
        assert_eq!(lock(&views.recent).len(), RECENT_VIEWS);
        // Two slots are pinned; the other six hold the six newest views.
        assert_eq!(views.phrase(last - 5).map(|v| v.id), Some(last - 5));
        assert!(views.phrase(last - 6).is_none());
        assert!(views.phrase(second + 1).is_none());
    }

    #[test]
    fn only_the_last_model_choice_waits_and_the_inbox_is_bounded() {
        let views = Views::new();
        let knobs = Knobs::default();
        let entry = HistoryEntry {
            seed: 3,
            progression: Progression {
                key: 0,
                mode: Mode::Ionian,
                bars: Vec::new(),
            },
            energy: 0.5,
            valence: 0.5,
            groove: None,
            groove_seed: None,
        };
        for dir in ["a", "b", "c"] {
            views.send(EditorToWorker::UseModel {
                dir: Some(PathBuf::from(dir)),
                knobs,
            });
        }
        views.send(EditorToWorker::Restore {
            index: 0,
            entry: entry.clone(),
            knobs,
        });
        assert_eq!(
            views.take_command(),
            Some(EditorToWorker::UseModel {
                dir: Some(PathBuf::from("c")),
                knobs
            })
        );
        assert!(matches!(
            views.take_command(),
            Some(EditorToWorker::Restore { index: 0, .. })
        ));
        assert_eq!(views.take_command(), None);
        for i in 0..EDITOR_INBOX_CAPACITY + 4 {
            views.send(EditorToWorker::Restore {
                index: i,
                entry: entry.clone(),
                knobs,
            });
        }
        assert!(matches!(
            views.take_command(),
            Some(EditorToWorker::Restore { index: 4, .. })
        ));
        assert_eq!(
            views.commands_sent(),
            3 + 1 + EDITOR_INBOX_CAPACITY as u64 + 4
        );
    }
}
