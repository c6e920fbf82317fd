//! The worker thread: one per plugin instance. It receives [`Request`]s from the audio thread,
//! asks a [`PhraseSource`] for a progression, renders it into a pooled [`Phrase`] and hands
//! the phrase to the audio thread; phrases the audio thread lets go of come back here to be
//! reused or freed.
//!
//! Threads and queues (all bounded, single producer, single consumer):
//! ```text
//!   audio ──Request──────────────► worker      (REQUEST_CAPACITY; coalesced: newest knobs win)
//!   worker ──Box<Phrase>─────────► audio       (PHRASE_CAPACITY)
//!   audio ──Box<Phrase> (retired)► worker      (RETURN_CAPACITY: room for every phrase alive)
//! ```
//! The worker only sends a phrase it took from its pool of [`POOL_PHRASES`], so the audio
//! side can never hold more phrases than the return queue can take back.
//!
//! The editor talks to the worker through [`Views`] (not real-time on either side): the worker
//! publishes a [`PhraseView`] of each phrase it sends and serves [`EditorCommand`]s (restore a
//! history entry, switch the model). Each newly written phrase joins the session's history.

use crate::params::Knobs;
use crate::phrase::Phrase;
use crate::progression::{Progression, MAX_BARS};
use crate::render::render_into;
use crate::state::{lock, HistoryEntry, Session, SessionCell};
use crate::view::{EditorCommand, PhraseView, Views};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// Phrases the worker owns and recycles.
pub const POOL_PHRASES: usize = 4;
/// Requests that can wait in the queue; the audio thread retries next block when it is full.
pub const REQUEST_CAPACITY: usize = 16;
/// Rendered phrases waiting for the audio thread.
pub const PHRASE_CAPACITY: usize = POOL_PHRASES;
/// Retired phrases on their way back: the pool plus phrases installed directly at activation.
pub const RETURN_CAPACITY: usize = POOL_PHRASES + 4;
/// How often the worker looks at its queues when idle.
const POLL_INTERVAL: Duration = Duration::from_millis(4);

/// What a request asks for, from least to most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RequestKind {
    /// Play the same progression with new performance settings (swing, parts, velocity…).
    Perform,
    /// Write the progression again with the same seed for new knob values.
    Vary,
    /// Write a new progression with a new seed.
    NewSeed,
}

/// A request from the audio thread. Plain data: sending it never allocates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Request {
    /// What to do.
    pub kind: RequestKind,
    /// Parameter values at the time of the request.
    pub knobs: Knobs,
}

impl Request {
    /// Two requests waiting together become one: the newest knobs, the larger kind.
    pub fn merge(self, newer: Request) -> Request {
        Request {
            kind: self.kind.max(newer.kind),
            knobs: newer.knobs,
        }
    }
}

/// Where progressions come from. The neural decoder implements this; until then
/// [`LoadedProgression`] plays only what the user loaded.
pub trait PhraseSource: Send {
    /// A short name for the status line, e.g. "embedded model".
    fn name(&self) -> &str;

    /// Something the user should know about how the source was built (e.g. their model folder
    /// was refused and the built-in model is used instead).
    fn warning(&self) -> Option<String> {
        None
    }

    /// The progression for `request` with `seed`, or None when there is nothing to play. An
    /// error is a message for the user; the current phrase keeps playing.
    fn progression(
        &mut self,
        request: &Request,
        seed: u64,
        session: &Session,
    ) -> Result<Option<Progression>, String>;
}

/// Plays the progression stored in the session (loaded from a file or a saved project).
#[derive(Debug, Default)]
pub struct LoadedProgression;

impl PhraseSource for LoadedProgression {
    fn name(&self) -> &str {
        "loaded progression"
    }

    fn progression(
        &mut self,
        _request: &Request,
        _seed: u64,
        session: &Session,
    ) -> Result<Option<Progression>, String> {
        Ok(session.progression.clone())
    }
}

/// The next seed after `seed` (SplitMix64): Regenerate walks a fixed sequence, so a session
/// can be reproduced from its first seed.
pub fn next_seed(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// `progression` with the Key and Mode parameters applied (Auto keeps its own).
pub fn with_overrides(mut progression: Progression, knobs: &Knobs) -> Progression {
    if let Some(key) = knobs.key {
        progression.key = key;
    }
    if let Some(mode) = knobs.mode {
        progression.mode = mode;
    }
    progression
}

/// Renders the session's progression for `knobs` into `out`. Returns false when the session
/// has no progression. Used by the worker and, at activation, on the main thread.
pub fn render_session(session: &Session, knobs: &Knobs, out: &mut Phrase) -> bool {
    let Some(progression) = &session.progression else {
        return false;
    };
    let progression = with_overrides(progression.clone(), knobs);
    render_into(&progression, &knobs.render_settings(session.seed), out);
    true
}

/// Gives a phrase rendered from `session` an id and shows it to the editor (worker or main
/// thread: allocates).
pub fn publish_view(views: &Views, session: &Session, knobs: &Knobs, phrase: &mut Phrase) {
    let Some(progression) = &session.progression else {
        return;
    };
    let id = views.next_phrase_id();
    phrase.set_id(id);
    views.publish(PhraseView {
        id,
        seed: session.seed,
        progression: with_overrides(progression.clone(), knobs),
        knobs: *knobs,
        phrase: phrase.clone(),
    });
}

/// The audio thread's ends of the queues.
pub struct AudioEnds {
    /// Requests to the worker.
    pub requests: rtrb::Producer<Request>,
    /// Phrases from the worker.
    pub phrases: rtrb::Consumer<Box<Phrase>>,
    /// Retired phrases back to the worker.
    pub returns: rtrb::Producer<Box<Phrase>>,
}

/// Handle to the worker thread; dropping it stops and joins the thread.
pub struct Worker {
    /// Set to ask the thread to finish.
    shutdown: Arc<AtomicBool>,
    /// The thread, joined on drop.
    thread: Option<JoinHandle<()>>,
}

impl Worker {
    /// Starts the worker thread, which first builds its phrase source with `make_source` (so a
    /// model is loaded and optimised there, never on the host's threads). Allocates: call from
    /// `activate()`, never from `process()`.
    pub fn spawn(
        session: SessionCell,
        status: Arc<Status>,
        views: Arc<Views>,
        make_source: SourceFactory,
    ) -> std::io::Result<(Worker, AudioEnds)> {
        let (requests, request_rx) = rtrb::RingBuffer::new(REQUEST_CAPACITY);
        let (phrase_tx, phrases) = rtrb::RingBuffer::new(PHRASE_CAPACITY);
        let (returns, return_rx) = rtrb::RingBuffer::new(RETURN_CAPACITY);
        let shutdown = Arc::new(AtomicBool::new(false));
        let state = WorkerState {
            session,
            status,
            views,
            make_source,
            source: Box::new(LoadedProgression),
            requests: request_rx,
            phrases: phrase_tx,
            returns: return_rx,
            pool: (0..POOL_PHRASES)
                .map(|_| Box::new(Phrase::new(MAX_BARS as u32)))
                .collect(),
            waiting: None,
            outbox: None,
            shutdown: shutdown.clone(),
        };
        let thread = std::thread::Builder::new()
            .name("lofi-loom-worker".into())
            .spawn(move || state.start())?;
        Ok((
            Worker {
                shutdown,
                thread: Some(thread),
            },
            AudioEnds {
                requests,
                phrases,
                returns,
            },
        ))
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.shutdown.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            if thread.join().is_err() {
                nice_plug::nice_error!("Lofi Loom's worker thread panicked");
            }
        }
    }
}

/// Builds the worker's phrase source on the worker thread, from the user's model folder if
/// one is chosen (again each time the user picks another).
pub type SourceFactory =
    Box<dyn FnMut(Option<&Path>) -> Result<Box<dyn PhraseSource>, String> + Send>;

/// What the worker tells the user (read by the GUI and tests; never by the audio thread).
#[derive(Debug, Default)]
pub struct Status {
    /// Which source writes phrases, e.g. "embedded model", once it is ready.
    source: Mutex<Option<String>>,
    /// The last problem, in plain words.
    error: Mutex<Option<String>>,
    /// How long the last phrase took to write and render, in microseconds.
    last_generation_us: AtomicU64,
    /// How many phrases the worker has sent.
    phrases_sent: AtomicU64,
}

impl Status {
    /// Which source writes phrases, once it is ready.
    pub fn source(&self) -> Option<String> {
        lock(&self.source).clone()
    }

    /// The last problem, if any.
    pub fn error(&self) -> Option<String> {
        lock(&self.error).clone()
    }

    /// Time the last phrase took, in microseconds.
    pub fn last_generation_us(&self) -> u64 {
        self.last_generation_us.load(Ordering::Relaxed)
    }

    /// Phrases sent so far.
    pub fn phrases_sent(&self) -> u64 {
        self.phrases_sent.load(Ordering::Acquire)
    }

    /// Replaces the message shown to the user (None clears it).
    pub fn set_error(&self, message: Option<String>) {
        *lock(&self.error) = message;
    }
}

/// Everything the worker thread owns.
struct WorkerState {
    /// Seed and progression, shared with the host's state calls.
    session: SessionCell,
    /// What the user is told.
    status: Arc<Status>,
    /// What the editor sees, and its commands.
    views: Arc<Views>,
    /// Builds phrase sources.
    make_source: SourceFactory,
    /// Where progressions come from.
    source: Box<dyn PhraseSource>,
    /// Requests from the audio thread.
    requests: rtrb::Consumer<Request>,
    /// Rendered phrases to the audio thread.
    phrases: rtrb::Producer<Box<Phrase>>,
    /// Retired phrases from the audio thread.
    returns: rtrb::Consumer<Box<Phrase>>,
    /// Free phrases. Boxed because they travel through the queues as pointers: moving one
    /// never copies or allocates on the audio thread.
    #[allow(clippy::vec_box)]
    pool: Vec<Box<Phrase>>,
    /// A request not yet served (merged with newer ones while it waits).
    waiting: Option<Request>,
    /// A rendered phrase the audio queue had no room for yet.
    outbox: Option<Box<Phrase>>,
    /// Set when the plugin is dropped.
    shutdown: Arc<AtomicBool>,
}

impl WorkerState {
    /// Builds the phrase source (falling back to the loaded progression, with a message, if
    /// it cannot be built), then serves requests until shutdown.
    fn start(mut self) {
        let dir = self
            .session
            .read(|s| s.model_dir.clone())
            .map(PathBuf::from);
        self.build_source(dir.as_deref());
        self.run();
    }

    /// Builds the source for a model folder (None: the built-in model) and tells the user what
    /// runs and what went wrong.
    fn build_source(&mut self, dir: Option<&Path>) {
        match (self.make_source)(dir) {
            Ok(source) => {
                self.status.set_error(source.warning());
                self.source = source;
            }
            Err(message) => {
                nice_plug::nice_warn!("Lofi Loom plays loaded progressions only: {message}");
                self.status.set_error(Some(message));
                self.source = Box::new(LoadedProgression);
            }
        }
        *lock(&self.status.source) = Some(self.source.name().to_string());
    }

    /// Serves one editor command: it replaces whatever was waiting.
    fn command(&mut self, command: EditorCommand) {
        match command {
            EditorCommand::Restore {
                index,
                entry,
                knobs,
            } => {
                self.session.update(|s| s.restore_history(index, &entry));
                self.waiting = Some(Request {
                    kind: RequestKind::Perform,
                    knobs,
                });
            }
            EditorCommand::UseModel { dir, knobs } => {
                self.session.update(|s| {
                    s.model_dir = dir.as_ref().map(|d| d.to_string_lossy().into_owned());
                });
                self.build_source(dir.as_deref());
                self.waiting = Some(Request {
                    kind: RequestKind::Vary,
                    knobs,
                });
            }
        }
    }

    fn run(mut self) {
        while !self.shutdown.load(Ordering::Acquire) {
            self.collect_returns();
            while let Some(command) = self.views.take_command() {
                self.command(command);
            }
            while let Ok(request) = self.requests.pop() {
                self.waiting = Some(match self.waiting {
                    Some(older) => older.merge(request),
                    None => request,
                });
            }
            self.flush_outbox();
            if self.outbox.is_none() {
                if let Some(request) = self.waiting.take() {
                    self.serve(request);
                    continue;
                }
            }
            std::thread::park_timeout(POLL_INTERVAL);
        }
    }

    fn collect_returns(&mut self) {
        while let Ok(phrase) = self.returns.pop() {
            if self.pool.len() < POOL_PHRASES {
                self.pool.push(phrase);
            } // else: dropped here, on the worker thread.
        }
    }

    fn flush_outbox(&mut self) {
        if let Some(phrase) = self.outbox.take() {
            if let Err(rtrb::PushError::Full(phrase)) = self.phrases.push(phrase) {
                self.outbox = Some(phrase);
            }
        }
    }

    /// Serves one request; if no pooled phrase is free it waits for one to come back.
    fn serve(&mut self, request: Request) {
        let Some(mut phrase) = self.pool.pop() else {
            self.waiting = Some(request);
            return;
        };
        let started = std::time::Instant::now();
        let mut session = self.session.get();
        if request.kind == RequestKind::NewSeed {
            session.seed = next_seed(session.seed);
        }
        let mut written = None;
        if request.kind != RequestKind::Perform {
            match self.source.progression(&request, session.seed, &session) {
                Ok(p) => {
                    written = p.clone().map(|progression| HistoryEntry {
                        seed: session.seed,
                        progression,
                        energy: request.knobs.energy,
                        valence: request.knobs.valence,
                    });
                    session.progression = p;
                }
                Err(message) => {
                    nice_plug::nice_warn!("Lofi Loom could not write a new phrase: {message}");
                    self.status
                        .set_error(Some(format!("could not write a new phrase: {message}")));
                    self.pool.push(phrase);
                    return;
                }
            }
        }
        if render_session(&session, &request.knobs, &mut phrase) {
            self.session.update(|s| {
                s.seed = session.seed;
                s.progression = session.progression.clone();
                if let Some(entry) = written {
                    if request.kind == RequestKind::Vary {
                        s.refine_history(entry);
                    } else {
                        s.push_history(entry);
                    }
                }
            });
            publish_view(&self.views, &session, &request.knobs, &mut phrase);
            self.outbox = Some(phrase);
            self.flush_outbox();
            let elapsed_us = started.elapsed().as_micros().min(u64::MAX as u128) as u64;
            self.status
                .last_generation_us
                .store(elapsed_us, Ordering::Relaxed);
            self.status.phrases_sent.fetch_add(1, Ordering::AcqRel);
        } else {
            self.pool.push(phrase);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::LofiParams;
    use crate::progression::{Bar, Chord, Mode, Step};
    use std::time::Instant;

    fn session() -> Session {
        let bar = Bar {
            chord: Some(Chord::diatonic(Mode::Ionian, 1)),
            melody: [Step::Note(0); 8],
        };
        Session {
            seed: 7,
            progression: Some(Progression {
                key: 0,
                mode: Mode::Ionian,
                bars: vec![bar; 4],
            }),
            ..Session::default()
        }
    }

    fn loaded() -> SourceFactory {
        Box::new(|_| Ok(Box::new(LoadedProgression)))
    }

    fn wait_for_phrase(ends: &mut AudioEnds) -> Box<Phrase> {
        let start = Instant::now();
        loop {
            if let Ok(p) = ends.phrases.pop() {
                return p;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "worker produced nothing"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn renders_requests_and_reuses_returned_phrases() {
        let cell = SessionCell::default();
        cell.restore(session());
        let (worker, mut ends) =
            Worker::spawn(cell.clone(), Arc::default(), Views::new(), loaded()).unwrap();
        let knobs = LofiParams::default().knobs();
        for _ in 0..3 * POOL_PHRASES {
            ends.requests
                .push(Request {
                    kind: RequestKind::Perform,
                    knobs,
                })
                .unwrap();
            let p = wait_for_phrase(&mut ends);
            assert_eq!(p.bars(), 4);
            let mut expected = Phrase::new(8);
            render_session(&session(), &knobs, &mut expected);
            expected.set_id(p.id());
            assert_eq!(*p, expected);
            ends.returns.push(p).unwrap();
        }
        drop(worker); // joins
    }

    #[test]
    fn new_seed_walks_the_seed_sequence_and_is_saved() {
        let cell = SessionCell::default();
        cell.restore(session());
        let (_worker, mut ends) =
            Worker::spawn(cell.clone(), Arc::default(), Views::new(), loaded()).unwrap();
        let knobs = LofiParams::default().knobs();
        ends.requests
            .push(Request {
                kind: RequestKind::NewSeed,
                knobs,
            })
            .unwrap();
        let p = wait_for_phrase(&mut ends);
        assert_eq!(cell.get().seed, next_seed(7));
        let mut expected = Phrase::new(8);
        render_session(
            &Session {
                seed: next_seed(7),
                ..session()
            },
            &knobs,
            &mut expected,
        );
        expected.set_id(p.id());
        assert_eq!(*p, expected);
    }

    #[test]
    fn nothing_is_sent_without_a_loaded_progression() {
        let cell = SessionCell::default();
        let (_worker, mut ends) =
            Worker::spawn(cell, Arc::default(), Views::new(), loaded()).unwrap();
        let knobs = LofiParams::default().knobs();
        ends.requests
            .push(Request {
                kind: RequestKind::NewSeed,
                knobs,
            })
            .unwrap();
        std::thread::sleep(Duration::from_millis(50));
        assert!(ends.phrases.pop().is_err());
    }

    #[test]
    fn a_source_that_fails_to_build_falls_back_and_says_why() {
        let cell = SessionCell::default();
        cell.restore(session());
        let status = Arc::new(Status::default());
        let failing: SourceFactory = Box::new(|_| Err("the model file is damaged".into()));
        let (_worker, mut ends) =
            Worker::spawn(cell, status.clone(), Views::new(), failing).unwrap();
        let knobs = LofiParams::default().knobs();
        ends.requests
            .push(Request {
                kind: RequestKind::Vary,
                knobs,
            })
            .unwrap();
        let p = wait_for_phrase(&mut ends);
        assert_eq!(p.bars(), 4);
        assert_eq!(status.source().as_deref(), Some("loaded progression"));
        assert_eq!(status.error().as_deref(), Some("the model file is damaged"));
        assert_eq!(status.phrases_sent(), 1);
    }

    /// A source that writes the session's progression transposed by the seed, so each seed
    /// gives a different, predictable progression.
    struct Transposing;

    impl PhraseSource for Transposing {
        fn name(&self) -> &str {
            "transposing"
        }

        fn progression(
            &mut self,
            _request: &Request,
            seed: u64,
            _session: &Session,
        ) -> Result<Option<Progression>, String> {
            let mut p = session().progression.unwrap();
            p.key = (seed % 12) as u8;
            Ok(Some(p))
        }
    }

    fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
        let start = Instant::now();
        while !done() {
            assert!(start.elapsed() < Duration::from_secs(10), "{what}");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn written_phrases_join_the_history_and_are_shown_to_the_editor() {
        let cell = SessionCell::default();
        cell.restore(session());
        let views = Views::new();
        let source: SourceFactory = Box::new(|_| Ok(Box::new(Transposing)));
        let (_worker, mut ends) =
            Worker::spawn(cell.clone(), Arc::default(), views.clone(), source).unwrap();
        let mut knobs = LofiParams::default().knobs();
        knobs.energy = 0.25;
        let mut seeds = Vec::new();
        for kind in [
            RequestKind::NewSeed,
            RequestKind::NewSeed,
            RequestKind::Perform,
        ] {
            ends.requests.push(Request { kind, knobs }).unwrap();
            let p = wait_for_phrase(&mut ends);
            let view = views.latest().expect("a view");
            assert_eq!(view.id, p.id());
            assert_ne!(view.id, crate::view::NO_PHRASE);
            assert_eq!(view.phrase, *p);
            assert_eq!(view.seed, cell.get().seed);
            assert_eq!(view.progression.key, (cell.get().seed % 12) as u8);
            seeds.push(cell.get().seed);
            ends.returns.push(p).unwrap();
        }
        // Two phrases were written (Perform only re-renders): two history entries.
        let s = cell.get();
        let history: Vec<_> = s.history.iter().map(|e| (e.seed, e.energy)).collect();
        assert_eq!(history, [(seeds[0], 0.25), (seeds[1], 0.25)]);
        assert_eq!(s.history_pos, Some(1));
        assert_eq!(s.history[0].progression.key, (seeds[0] % 12) as u8);

        // Back to the first entry: its seed and progression play again, exactly.
        views.send(EditorCommand::Restore {
            index: 0,
            entry: s.history[0].clone(),
            knobs,
        });
        let p = wait_for_phrase(&mut ends);
        let mut expected = Phrase::new(8);
        let restored = Session {
            seed: seeds[0],
            progression: Some(s.history[0].progression.clone()),
            ..Session::default()
        };
        render_session(&restored, &knobs, &mut expected);
        expected.set_id(p.id());
        assert_eq!(*p, expected);
        let s = cell.get();
        assert_eq!(
            (s.seed, s.history_pos, s.history.len()),
            (seeds[0], Some(0), 2)
        );
    }

    #[test]
    fn restoring_a_repeated_entry_marks_the_one_chosen() {
        let cell = SessionCell::default();
        let mut s = session();
        let entry = HistoryEntry {
            seed: 9,
            progression: s.progression.clone().unwrap(),
            energy: 0.5,
            valence: 0.5,
        };
        s.push_history(entry.clone());
        s.push_history(entry.clone());
        cell.restore(s);
        let views = Views::new();
        let source: SourceFactory = Box::new(|_| Ok(Box::new(Transposing)));
        let (_worker, mut ends) =
            Worker::spawn(cell.clone(), Arc::default(), views.clone(), source).unwrap();
        views.send(EditorCommand::Restore {
            index: 0,
            entry: entry.clone(),
            knobs: LofiParams::default().knobs(),
        });
        let p = wait_for_phrase(&mut ends);
        assert_eq!(views.latest().map(|v| v.id), Some(p.id()));
        assert_eq!(cell.get().history_pos, Some(0));
        // An index the history no longer holds falls back to the newest equal entry.
        ends.returns.push(p).unwrap();
        views.send(EditorCommand::Restore {
            index: 7,
            entry,
            knobs: LofiParams::default().knobs(),
        });
        let p = wait_for_phrase(&mut ends);
        assert_eq!(views.latest().map(|v| v.id), Some(p.id()));
        assert_eq!(cell.get().history_pos, Some(1));
    }

    #[test]
    fn choosing_a_model_rebuilds_the_source_saves_the_choice_and_reports_problems() {
        let cell = SessionCell::default();
        cell.restore(session());
        let status = Arc::new(Status::default());
        let views = Views::new();
        let asked = Arc::new(Mutex::new(Vec::new()));
        let log = asked.clone();
        let source: SourceFactory = Box::new(move |dir| {
            lock(&log).push(dir.map(Path::to_path_buf));
            match dir {
                Some(d) if d.ends_with("broken") => Err(format!("{} is broken", d.display())),
                _ => Ok(Box::new(Transposing)),
            }
        });
        let (_worker, mut ends) =
            Worker::spawn(cell.clone(), status.clone(), views.clone(), source).unwrap();
        let knobs = LofiParams::default().knobs();
        wait_until("source built", || status.source().is_some());
        views.send(EditorCommand::UseModel {
            dir: Some(PathBuf::from("/models/broken")),
            knobs,
        });
        wait_until("model refused", || status.error().is_some());
        assert_eq!(status.error().as_deref(), Some("/models/broken is broken"));
        assert_eq!(cell.get().model_dir.as_deref(), Some("/models/broken"));
        // The session's own progression still plays (Vary on the fallback source).
        let p = wait_for_phrase(&mut ends);
        assert_eq!(p.bars(), 4);
        ends.returns.push(p).unwrap();
        views.send(EditorCommand::UseModel { dir: None, knobs });
        wait_until("error cleared", || status.error().is_none());
        assert_eq!(status.source().as_deref(), Some("transposing"));
        assert_eq!(cell.get().model_dir, None);
        assert_eq!(
            *lock(&asked),
            [None, Some(PathBuf::from("/models/broken")), None]
        );
    }

    #[test]
    fn overrides_replace_key_and_mode() {
        let mut knobs = LofiParams::default().knobs();
        knobs.key = Some(5);
        knobs.mode = Some(Mode::Dorian);
        let p = with_overrides(session().progression.unwrap(), &knobs);
        assert_eq!((p.key, p.mode), (5, Mode::Dorian));
    }
}
