//! The worker thread: one per plugin instance. It owns the phrase source (the decoder and its
//! random draws) and a pool of phrases. It serves the audio thread's write requests — write a
//! progression ([`compose::write_progression`]), render it into a pooled [`Phrase`]
//! ([`compose::render_phrase`]) and send it — and the editor's commands (history, model
//! folder); phrases the audio thread lets go of come back here to be reused or freed. Each
//! newly written phrase joins the session's history.
//!
//! Queues and capacities are in [`crate::bridge::messages`]. The worker only sends a phrase it
//! took from its pool of [`POOL_PHRASES`], so the audio side never holds more phrases than the
//! way back has room for.

pub mod compose;
pub mod neural;
pub mod source;

use crate::bridge::messages::{
    channels, AudioEnds, AudioToWorker, EditorToWorker, Request, RequestKind, WorkerEnds,
    WorkerToAudio, POOL_PHRASES,
};
use crate::bridge::status::Status;
use crate::bridge::views::{PhraseView, Views};
use crate::music::knobs::Knobs;
use crate::music::phrase::Phrase;
use crate::music::progression::MAX_BARS;
use crate::session::{HistoryEntry, Session, SessionCell};
use compose::{render_phrase, with_overrides, write_groove, write_progression};
use source::{next_seed, Alternative, LoadedProgression, PhraseSource, SourceFactory};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// How often the worker looks at its queues when idle.
const POLL_INTERVAL: Duration = Duration::from_millis(4);

/// Renders the session's progression for `knobs` into `out`. Returns false when the session
/// has no progression. Used by the worker and, at activation, on the main thread.
pub fn render_session(session: &Session, knobs: &Knobs, out: &mut Phrase) -> bool {
    let Some(progression) = &session.progression else {
        return false;
    };
    render_phrase(
        progression,
        session.groove.as_ref(),
        knobs,
        (session.seed, session.groove_seed()),
        out,
    );
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

/// The editor's views of the candidates not chosen: each rendered as played with `knobs`
/// (overrides applied, no drums), for its cards.
fn alternative_views(alternatives: &[Alternative], knobs: &Knobs) -> Vec<PhraseView> {
    alternatives
        .iter()
        .map(|a| {
            let mut phrase = Phrase::new(MAX_BARS as u32);
            render_phrase(&a.progression, None, knobs, (a.seed, a.seed), &mut phrase);
            PhraseView {
                id: 0,
                seed: a.seed,
                progression: with_overrides(a.progression.clone(), knobs),
                knobs: *knobs,
                phrase,
            }
        })
        .collect()
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
    /// `initialize()`, never from `process()`.
    pub fn spawn(
        session: SessionCell,
        status: Arc<Status>,
        views: Arc<Views>,
        make_source: SourceFactory,
    ) -> std::io::Result<(Worker, AudioEnds)> {
        let (audio, ends) = channels();
        let shutdown = Arc::new(AtomicBool::new(false));
        let state = WorkerState {
            session,
            status,
            views,
            make_source,
            source: Box::new(LoadedProgression),
            ends,
            pool: (0..POOL_PHRASES)
                .map(|_| Box::new(Phrase::new(MAX_BARS as u32)))
                .collect(),
            waiting: None,
            alternative: None,
            warmed_up: false,
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
            audio,
        ))
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.shutdown.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            if thread.join().is_err() {
                tracing::error!("Lofi Loom's worker thread panicked");
            }
        }
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
    /// The worker's ends of the audio thread's queues.
    ends: WorkerEnds,
    /// Free phrases. Boxed because they travel through the queues as pointers: moving one
    /// never copies or allocates on the audio thread.
    #[allow(clippy::vec_box)]
    pool: Vec<Box<Phrase>>,
    /// A request not yet served (merged with newer ones while it waits), and the serial of
    /// the newest audio-thread request merged into it (0: none, e.g. an editor command).
    waiting: Option<(Request, u64)>,
    /// The seed of a picked alternative, which the next phrase written plays (as a new history
    /// entry). It reaches the shared session only with the phrase written from it, so the
    /// session never holds the new seed beside the old progression.
    alternative: Option<u64>,
    /// Whether the source has been warmed up.
    warmed_up: bool,
    /// An answer the audio queue had no room for yet.
    outbox: Option<WorkerToAudio>,
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
                tracing::warn!("Lofi Loom plays loaded progressions only: {message}");
                self.status.set_error(Some(message));
                self.source = Box::new(LoadedProgression);
            }
        }
        self.status.set_source(self.source.name());
        self.warmed_up = false;
    }

    /// Serves one editor command: it replaces whatever was waiting.
    fn command(&mut self, command: EditorToWorker) {
        match command {
            EditorToWorker::Restore {
                index,
                entry,
                knobs,
            } => {
                self.session.update(|s| s.restore_history(index, &entry));
                self.wait_for(Request::new(RequestKind::Perform, knobs), 0);
            }
            EditorToWorker::UseAlternative { seed, knobs } => {
                self.alternative = Some(seed);
                self.wait_for(Request::new(RequestKind::Vary, knobs), 0);
            }
            EditorToWorker::UseModel { dir, knobs } => {
                self.session.update(|s| {
                    s.model_dir = dir.as_ref().map(|d| d.to_string_lossy().into_owned());
                });
                self.build_source(dir.as_deref());
                self.wait_for(Request::new(RequestKind::Vary, knobs), 0);
            }
        }
    }

    fn run(mut self) {
        while !self.shutdown.load(Ordering::Acquire) {
            self.receive();
            while let Some(command) = self.views.take_command() {
                self.command(command);
            }
            self.flush_outbox();
            if self.outbox.is_none() {
                if let Some(request) = self.waiting.take() {
                    self.serve(request);
                    continue;
                }
            }
            if !self.warmed_up {
                // Idle for the first time: what the first new seed needs, loaded now.
                self.warmed_up = true;
                self.source.warm_up();
                continue;
            }
            std::thread::park_timeout(POLL_INTERVAL);
        }
    }

    /// Merges `request` (audio-thread serial `serial`, 0 for none) into the waiting one.
    fn wait_for(&mut self, request: Request, serial: u64) {
        self.waiting = Some(match self.waiting {
            Some((older, older_serial)) => (older.merge(request), older_serial.max(serial)),
            None => (request, serial),
        });
    }

    /// Takes everything the audio thread sent: requests merge into the waiting one, retired
    /// phrases go back to the pool (or are freed here, off the audio thread).
    fn receive(&mut self) {
        while let Ok(message) = self.ends.from_audio.pop() {
            match message {
                AudioToWorker::Write { request, serial } => self.wait_for(request, serial),
                AudioToWorker::Retired(phrase) => {
                    if self.pool.len() < POOL_PHRASES {
                        self.pool.push(phrase);
                    }
                }
            }
        }
    }

    fn flush_outbox(&mut self) {
        if let Some(message) = self.outbox.take() {
            if let Err(rtrb::PushError::Full(message)) = self.ends.to_audio.push(message) {
                self.outbox = Some(message);
            }
        }
    }

    /// Sends an answer to the audio thread (held in the outbox while its queue is full).
    fn answer(&mut self, message: WorkerToAudio) {
        self.outbox = Some(message);
        self.flush_outbox();
    }

    /// Serves one request and answers it: with a phrase, or with word that nothing changed.
    /// If no pooled phrase is free it waits for one to come back.
    ///
    /// The seeds: a new seed (Regenerate) also gives the groove that seed, unless Lock drums
    /// keeps the playing groove; "Drums only" moves the groove seed on by itself. A groove is
    /// (re)written whenever the progression is, with the groove seed at the new knobs (so moving
    /// Energy evolves the groove rather than replacing it), except under Lock drums.
    fn serve(&mut self, (request, serial): (Request, u64)) {
        let Some(mut phrase) = self.pool.pop() else {
            self.waiting = Some((request, serial));
            return;
        };
        let started = std::time::Instant::now();
        let knobs = &request.knobs;
        let mut session = self.session.get();
        let keep_groove = knobs.lock_drums && session.groove.is_some();
        // A picked alternative is a new history entry, not a variation of the newest one.
        let alternative = self.alternative.take();
        let fresh_entry = alternative.is_some();
        if let Some(seed) = alternative {
            // Lock drums keeps the groove and its seed; otherwise the groove is the
            // alternative's own.
            session.groove_seed = keep_groove.then(|| session.groove_seed());
            session.seed = seed;
        }
        if request.kind == RequestKind::NewSeed {
            if keep_groove {
                // The kept groove keeps its seed (and so its humanize) whatever the new
                // phrase's seed is.
                session.groove_seed = Some(session.groove_seed());
            }
            session.seed = next_seed(session.seed);
            // The candidate of the new seed that lands closest to the knobs plays; its own
            // seed becomes the phrase's, so knob moves vary it as they vary any phrase.
            match self
                .source
                .choose(knobs, session.seed, session.progression.as_ref())
            {
                Ok(Some(choice)) => {
                    session.seed = choice.seed;
                    self.views
                        .store_alternatives(alternative_views(&choice.alternatives, knobs));
                }
                Ok(None) => self.views.store_alternatives(Vec::new()),
                Err(message) => {
                    tracing::warn!("Lofi Loom could not weigh candidates: {message}");
                    self.views.store_alternatives(Vec::new());
                }
            }
            if !keep_groove {
                session.groove_seed = None;
            }
        }
        if request.new_groove {
            session.groove_seed = Some(next_seed(session.groove_seed()));
        }
        let writes = request.kind != RequestKind::Perform;
        if writes {
            let playing = session.progression.as_ref();
            match write_progression(&mut *self.source, knobs, session.seed, playing) {
                Ok(p) => session.progression = p,
                Err(message) => {
                    tracing::warn!("Lofi Loom could not write a new phrase: {message}");
                    self.status
                        .set_error(Some(format!("could not write a new phrase: {message}")));
                    self.pool.push(phrase);
                    self.answer(WorkerToAudio::Unchanged { answers: serial });
                    return;
                }
            }
        }
        if request.new_groove || (writes && !keep_groove) {
            session.groove = Some(write_groove(knobs, session.groove_seed()));
        }
        let written = (writes || request.new_groove)
            .then(|| session.progression.clone())
            .flatten()
            .map(|progression| HistoryEntry {
                seed: session.seed,
                progression,
                energy: knobs.energy,
                valence: knobs.valence,
                groove: session.groove.clone(),
                groove_seed: session.groove_seed,
            });
        if render_session(&session, knobs, &mut phrase) {
            self.session.update(|s| {
                s.seed = session.seed;
                s.progression = session.progression.clone();
                s.groove = session.groove.clone();
                s.groove_seed = session.groove_seed;
                if let Some(captured) = &request.captured {
                    s.set_captured(captured);
                }
                if let Some(entry) = written {
                    if request.kind == RequestKind::Vary && !request.new_groove && !fresh_entry {
                        s.refine_history(entry);
                    } else {
                        s.push_history(entry);
                    }
                }
            });
            publish_view(&self.views, &session, knobs, &mut phrase);
            self.answer(WorkerToAudio::Phrase {
                phrase,
                answers: serial,
            });
            let elapsed_us = started.elapsed().as_micros().min(u64::MAX as u128) as u64;
            self.status.record_phrase(elapsed_us);
        } else {
            self.pool.push(phrase);
            self.answer(WorkerToAudio::Unchanged { answers: serial });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bridge::lock;
    use crate::music::phrase::Note;
    use crate::music::progression::Progression;
    use crate::music::progression::{Bar, Chord, Mode, Step};
    use std::sync::Mutex;
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
            if let Some(p) = ends.next_phrase() {
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
        let knobs = Knobs::default();
        for _ in 0..3 * POOL_PHRASES {
            ends.request(Request::new(RequestKind::Perform, knobs))
                .unwrap();
            let p = wait_for_phrase(&mut ends);
            assert_eq!(p.bars(), 4);
            let mut expected = Phrase::new(8);
            render_session(&session(), &knobs, &mut expected);
            expected.set_id(p.id());
            assert_eq!(*p, expected);
            ends.retire(p);
        }
        drop(worker); // joins
    }

    #[test]
    fn new_seed_walks_the_seed_sequence_and_is_saved() {
        let cell = SessionCell::default();
        cell.restore(session());
        let (_worker, mut ends) =
            Worker::spawn(cell.clone(), Arc::default(), Views::new(), loaded()).unwrap();
        let knobs = Knobs::default();
        ends.request(Request::new(RequestKind::NewSeed, knobs))
            .unwrap();
        let p = wait_for_phrase(&mut ends);
        assert_eq!(cell.get().seed, next_seed(7));
        // The new seed writes the groove too (none was given).
        assert_eq!(
            (cell.get().groove_seed, cell.get().groove.is_some()),
            (None, true)
        );
        let mut expected = Phrase::new(8);
        render_session(
            &Session {
                seed: next_seed(7),
                groove: Some(write_groove(&knobs, next_seed(7))),
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
        let knobs = Knobs::default();
        ends.request(Request::new(RequestKind::NewSeed, knobs))
            .unwrap();
        std::thread::sleep(Duration::from_millis(50));
        assert!(ends.next_phrase().is_none());
    }

    #[test]
    fn a_source_that_fails_to_build_falls_back_and_says_why() {
        let cell = SessionCell::default();
        cell.restore(session());
        let status = Arc::new(Status::default());
        let failing: SourceFactory = Box::new(|_| Err("the model file is damaged".into()));
        let (_worker, mut ends) =
            Worker::spawn(cell, status.clone(), Views::new(), failing).unwrap();
        let knobs = Knobs::default();
        ends.request(Request::new(RequestKind::Vary, knobs))
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
            _knobs: &Knobs,
            seed: u64,
            _playing: Option<&Progression>,
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
        let knobs = Knobs {
            energy: 0.25,
            ..Knobs::default()
        };
        let mut seeds = Vec::new();
        for kind in [
            RequestKind::NewSeed,
            RequestKind::NewSeed,
            RequestKind::Perform,
        ] {
            ends.request(Request::new(kind, knobs)).unwrap();
            let p = wait_for_phrase(&mut ends);
            let view = views.latest().expect("a view");
            assert_eq!(view.id, p.id());
            assert_ne!(view.id, crate::bridge::views::NO_PHRASE);
            assert_eq!(view.phrase, *p);
            assert_eq!(view.seed, cell.get().seed);
            assert_eq!(view.progression.key, (cell.get().seed % 12) as u8);
            seeds.push(cell.get().seed);
            ends.retire(p);
        }
        // Two phrases were written (Perform only re-renders): two history entries.
        let s = cell.get();
        let history: Vec<_> = s.history.iter().map(|e| (e.seed, e.energy)).collect();
        assert_eq!(history, [(seeds[0], 0.25), (seeds[1], 0.25)]);
        assert_eq!(s.history_pos, Some(1));
        assert_eq!(s.history[0].progression.key, (seeds[0] % 12) as u8);

        // Back to the first entry: its seed and progression play again, exactly.
        views.send(EditorToWorker::Restore {
            index: 0,
            entry: s.history[0].clone(),
            knobs,
        });
        let p = wait_for_phrase(&mut ends);
        let mut expected = Phrase::new(8);
        assert!(s.history[0].groove.is_some(), "the entry keeps its groove");
        let restored = Session {
            seed: seeds[0],
            progression: Some(s.history[0].progression.clone()),
            groove: s.history[0].groove.clone(),
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
            groove: None,
            groove_seed: None,
        };
        s.push_history(entry.clone());
        s.push_history(entry.clone());
        cell.restore(s);
        let views = Views::new();
        let source: SourceFactory = Box::new(|_| Ok(Box::new(Transposing)));
        let (_worker, mut ends) =
            Worker::spawn(cell.clone(), Arc::default(), views.clone(), source).unwrap();
        views.send(EditorToWorker::Restore {
            index: 0,
            entry: entry.clone(),
            knobs: Knobs::default(),
        });
        let p = wait_for_phrase(&mut ends);
        assert_eq!(views.latest().map(|v| v.id), Some(p.id()));
        assert_eq!(cell.get().history_pos, Some(0));
        // An index the history no longer holds falls back to the newest equal entry.
        ends.retire(p);
        views.send(EditorToWorker::Restore {
            index: 7,
            entry,
            knobs: Knobs::default(),
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
        let knobs = Knobs::default();
        wait_until("source built", || status.source().is_some());
        views.send(EditorToWorker::UseModel {
            dir: Some(PathBuf::from("/models/broken")),
            knobs,
        });
        wait_until("model refused", || status.error().is_some());
        assert_eq!(status.error().as_deref(), Some("/models/broken is broken"));
        assert_eq!(cell.get().model_dir.as_deref(), Some("/models/broken"));
        // The session's own progression still plays (Vary on the fallback source).
        let p = wait_for_phrase(&mut ends);
        assert_eq!(p.bars(), 4);
        ends.retire(p);
        views.send(EditorToWorker::UseModel { dir: None, knobs });
        wait_until("error cleared", || status.error().is_none());
        assert_eq!(status.source().as_deref(), Some("transposing"));
        assert_eq!(cell.get().model_dir, None);
        assert_eq!(
            *lock(&asked),
            [None, Some(PathBuf::from("/models/broken")), None]
        );
    }

    #[test]
    fn lock_drums_keeps_the_groove_while_the_chords_change_and_drums_only_changes_only_it() {
        let cell = SessionCell::default();
        cell.restore(session());
        let source: SourceFactory = Box::new(|_| Ok(Box::new(Transposing)));
        let (_worker, mut ends) =
            Worker::spawn(cell.clone(), Arc::default(), Views::new(), source).unwrap();
        let knobs = Knobs::default();
        // A first written phrase: its groove comes from its seed.
        ends.request(Request::new(RequestKind::NewSeed, knobs))
            .unwrap();
        let p = wait_for_phrase(&mut ends);
        ends.retire(p);
        let first = cell.get();
        let groove = first
            .groove
            .clone()
            .expect("a groove is written with the phrase");
        assert_eq!(groove, write_groove(&knobs, first.seed));

        // Lock drums, new seed: new chords, the same groove.
        let locked = Knobs {
            lock_drums: true,
            ..knobs
        };
        ends.request(Request::new(RequestKind::NewSeed, locked))
            .unwrap();
        let p = wait_for_phrase(&mut ends);
        let second = cell.get();
        assert_ne!(second.seed, first.seed);
        assert_ne!(second.progression, first.progression);
        assert_eq!(second.groove.as_ref(), Some(&groove));
        assert_eq!(
            second.groove_seed,
            Some(first.seed),
            "the groove keeps its seed"
        );
        let drums = |p: &Phrase| -> Vec<Note> {
            p.notes()
                .iter()
                .filter(|n| n.part == crate::music::phrase::Part::Drums)
                .copied()
                .collect()
        };
        let mut before = Phrase::new(8);
        render_session(&first, &knobs, &mut before);
        // The kept groove plays exactly as before: the same hits, times, lengths and
        // velocities (its humanize follows the groove's seed, not the new phrase's).
        assert!(!drums(&before).is_empty());
        assert_eq!(drums(&p), drums(&before));
        ends.retire(p);

        // Drums only: the same chords and seed, the next groove seed.
        let only = Request {
            new_groove: true,
            ..Request::new(RequestKind::Perform, knobs)
        };
        ends.request(only).unwrap();
        let p = wait_for_phrase(&mut ends);
        ends.retire(p);
        let third = cell.get();
        assert_eq!(
            (third.seed, &third.progression),
            (second.seed, &second.progression)
        );
        assert_eq!(third.groove_seed, Some(next_seed(first.seed)));
        assert_eq!(
            third.groove,
            Some(write_groove(&knobs, next_seed(first.seed)))
        );
        assert_ne!(third.groove, second.groove);
        // Each of the three is in the history, with its groove.
        let grooves: Vec<_> = third.history.iter().map(|e| e.groove.clone()).collect();
        assert_eq!(grooves, [first.groove, second.groove, third.groove.clone()]);
    }

    /// The plugin's source: the embedded model.
    fn neural() -> SourceFactory {
        Box::new(|dir| {
            crate::worker::neural::NeuralSource::load(dir)
                .map(|s| Box::new(s) as Box<dyn PhraseSource>)
                .map_err(|e| e.to_string())
        })
    }

    #[test]
    fn a_new_seed_plays_its_closest_candidate_and_keeps_the_others() {
        let cell = SessionCell::default();
        cell.restore(session());
        let views = Views::new();
        let (_worker, mut ends) =
            Worker::spawn(cell.clone(), Arc::default(), views.clone(), neural()).unwrap();
        let knobs = Knobs {
            energy: 0.85,
            valence: 0.2,
            ..Knobs::default()
        };
        ends.request(Request::new(RequestKind::NewSeed, knobs))
            .unwrap();
        let p = wait_for_phrase(&mut ends);
        ends.retire(p);
        // What the decoder's candidates choose for the next seed, written here alone.
        let model = crate::decoder::Model::embedded().unwrap();
        let mut g = crate::decoder::Generator::new(&model).unwrap();
        let params = crate::decoder::GenerateParams::from_knobs(&knobs, next_seed(7));
        let want = g.candidates(&params).unwrap();
        let s = cell.get();
        assert_eq!(s.seed, want.chosen().seed);
        assert_eq!(s.progression.as_ref(), Some(&want.chosen().progression));
        let alternatives = views.alternatives();
        let seeds: Vec<u64> = alternatives.iter().map(|v| v.seed).collect();
        let runners: Vec<u64> = want.runners_up().iter().map(|c| c.seed).collect();
        assert_eq!(seeds, runners);
        assert_eq!(alternatives.len(), crate::decoder::CANDIDATES - 1);
        assert!(alternatives.iter().all(|v| !v.phrase.notes().is_empty()));
    }

    #[test]
    fn a_picked_alternative_plays_next_and_history_restores_it_exactly() {
        let cell = SessionCell::default();
        cell.restore(session());
        let views = Views::new();
        let (_worker, mut ends) =
            Worker::spawn(cell.clone(), Arc::default(), views.clone(), neural()).unwrap();
        let knobs = Knobs::default();
        ends.request(Request::new(RequestKind::NewSeed, knobs))
            .unwrap();
        let first = wait_for_phrase(&mut ends);
        ends.retire(first);
        let chosen = cell.get();
        let pick = views.alternatives()[2].clone();
        assert_ne!(pick.seed, chosen.seed);
        views.send(EditorToWorker::UseAlternative {
            seed: pick.seed,
            knobs,
        });
        let picked = wait_for_phrase(&mut ends);
        let s = cell.get();
        assert_eq!(s.seed, pick.seed);
        assert_eq!(s.progression.as_ref(), Some(&pick.progression));
        // The phrase sent to the audio thread is that alternative, as its card showed it.
        let mut shown = pick.phrase.clone();
        render_phrase(
            &pick.progression,
            s.groove.as_ref(),
            &knobs,
            (pick.seed, s.groove_seed()),
            &mut shown,
        );
        shown.set_id(picked.id());
        assert_eq!(*picked, shown);
        ends.retire(picked);
        // A new history entry, after the chosen phrase's.
        let seeds: Vec<u64> = s.history.iter().map(|e| e.seed).collect();
        assert_eq!(&seeds[seeds.len() - 2..], [chosen.seed, pick.seed]);
        // Back to the chosen phrase and forward to the picked one: each exactly.
        let len = s.history.len();
        for (index, want) in [(len - 2, &chosen), (len - 1, &s)] {
            views.send(EditorToWorker::Restore {
                index,
                entry: s.history[index].clone(),
                knobs,
            });
            let p = wait_for_phrase(&mut ends);
            let now = cell.get();
            assert_eq!((now.seed, &now.progression), (want.seed, &want.progression));
            ends.retire(p);
        }
    }
}
