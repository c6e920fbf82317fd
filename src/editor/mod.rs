//! The editor: an egui window (through nice-plug-egui) to steer, see, revisit and export the
//! phrases Lofi Loom writes.
//!
//! A leaf: it receives an [`EditorShared`] bundle, reads views (atomics and the worker's
//! phrase views, never anything the audio thread locks), changes parameters through the
//! host's parameter setter (always as begin/set/end gestures, see [`controls::Gestures`]) and
//! sends [`EditorToWorker`](crate::bridge::messages::EditorToWorker) commands to the worker.
//! It does work only while open: egui calls [`LoomApp::ui`] only for an open window, and
//! repaints are asked for only while the transport plays (for the playhead) or slowly
//! otherwise (to notice new phrases).
//!
//! One file per panel (`header`, `mood`, `follow`, `shape`, `sound`, `model`, `status`,
//! `export`, `alternatives`), each painter next to its geometry (`chords`, `roll`, `pad`,
//! `history`: the arithmetic is pure and tested without a window). Regions and their places
//! are in [`layout`]; colours in `theme`.

mod alternatives;
mod chords;
mod controls;
mod export;
mod follow;
mod header;
mod history;
pub mod layout;
mod model;
mod mood;
mod pad;
mod roll;
mod shape;
mod sound;
mod status;
mod theme;

use crate::bridge::lock;
use crate::bridge::status::Status;
use crate::bridge::views::{HostView, ListenView, PhraseView, Views};
use crate::dragout::{self, DragState, FileDrag, Support};
use crate::plugin::params::LofiParams;
use controls::Gestures;
use egui::{Align, CornerRadius, Layout as EguiLayout, Rect, RichText, Ui, UiBuilder};
use export::ExportChoice;
use layout::Layout;
use nice_plug::context::gui::GuiContext;
use nice_plug::editor::dpi::LogicalSize;
use nice_plug::prelude::{ParamSetter, ResizeHint};
use nice_plug_egui::baseview::WindowSize;
use nice_plug_egui::{
    create_egui_editor, EguiEditor, EguiEditorState, EguiNiceSettings, Frame, NiceEguiApp,
    RepaintNotifier,
};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Repaint interval while the transport plays (the playhead moves).
const PLAYING_REPAINT: Duration = Duration::from_millis(33);
/// Repaint interval otherwise (new phrases, status).
const IDLE_REPAINT: Duration = Duration::from_millis(250);

/// Everything the editor reads and writes.
#[derive(Clone)]
pub struct EditorShared {
    /// Parameters (set through the host's parameter setter), the session and the window size.
    pub params: Arc<LofiParams>,
    /// What the worker tells the user.
    pub status: Arc<Status>,
    /// What plays, what is queued, the host transport; commands to the worker.
    pub views: Arc<Views>,
}

/// What the last export or drag did, for the status bar.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    /// A file was written.
    Saved(PathBuf),
    /// Something went wrong; the message says what, in plain words.
    Problem(String),
}

/// The editor's egui app. Lives as long as the plugin's editor object; the window may open
/// and close many times.
pub struct LoomApp {
    /// Shared state.
    shared: EditorShared,
    /// The host's GUI context while the window is open.
    gui: Option<GuiContext>,
    /// Open parameter gestures.
    gestures: Gestures,
    /// The model folder text field.
    model_dir_text: String,
    /// The session's model folder when `model_dir_text` was last filled from it.
    model_dir_seen: Option<Option<String>>,
    /// The last export or drag-out result.
    outcome: Option<Outcome>,
    /// The drag in flight (or the last one, to show how it ended).
    drag: Option<FileDrag>,
    /// Whether drag-out works here (checked when the window opens).
    drag_support: Support,
    /// What Export and the drag handle write: the playing phrase or the last bars played.
    export_choice: ExportChoice,
}

impl LoomApp {
    /// A new app over `shared`.
    pub fn new(shared: EditorShared) -> LoomApp {
        LoomApp {
            shared,
            gui: None,
            gestures: Gestures::default(),
            model_dir_text: String::new(),
            model_dir_seen: None,
            outcome: None,
            drag: None,
            drag_support: Support::Available,
            export_choice: ExportChoice::default(),
        }
    }
}

impl NiceEguiApp for LoomApp {
    fn build(
        &mut self,
        egui_ctx: egui::Context,
        gui: GuiContext,
        _frame: &mut Frame,
    ) -> Result<(), nice_plug_egui::baseview::HandlerError> {
        theme::apply(&egui_ctx);
        self.gui = Some(gui);
        self.drag_support = dragout::support();
        Ok(())
    }

    fn ui(&mut self, ui: &mut Ui, _frame: &mut Frame) {
        let Some(gui) = self.gui.clone() else {
            return;
        };
        let setter = gui.param_setter();
        self.frame(ui, &setter);
    }

    fn resized(&mut self, size: WindowSize) {
        let w = size.logical.width.round().max(1.0) as u32;
        let h = size.logical.height.round().max(1.0) as u32;
        *lock(&self.shared.params.editor_size) = (w, h);
    }

    fn editor_closed(&mut self) {
        if let Some(gui) = self.gui.take() {
            self.gestures.end_all(&gui.param_setter());
        }
    }
}

/// What one frame shows, read once at its start.
struct Snapshot {
    /// The phrase playing (or the newest one before anything plays).
    phrase: Option<Arc<PhraseView>>,
    /// The phrase waiting for its bar line, if it differs from the one playing.
    next: Option<Arc<PhraseView>>,
    /// The host transport.
    host: HostView,
    /// What Follow hears.
    listen: ListenView,
}

impl LoomApp {
    /// One frame.
    fn frame(&mut self, ui: &mut Ui, setter: &ParamSetter) {
        let views = self.shared.views.clone();
        let playing = views.playing().or_else(|| views.latest());
        let next = views
            .queued()
            .filter(|q| playing.as_ref().is_none_or(|p| p.id != q.id));
        let snap = Snapshot {
            phrase: playing,
            next,
            host: views.host(),
            listen: views.listening(),
        };
        let area = ui.max_rect();
        ui.painter().rect_filled(area, 0.0, theme::BACKGROUND);
        let l = Layout::new(area.size());
        let at = |r: Rect| r.translate(area.min.to_vec2());

        self.header(ui, setter, &snap, at(l.header));
        self.card(ui, at(l.mood), "Mood", |app, ui| app.mood(ui, setter));
        self.card(ui, at(l.follow), "", |app, ui| {
            app.follow(ui, setter, &snap)
        });
        self.card(ui, at(l.model), "", |app, ui| app.model(ui));
        self.card(ui, at(l.chords), "", |_, ui| chords::chord_card(ui, &snap));
        roll::piano_roll(ui, at(l.roll), &snap);
        self.alternatives(ui, at(l.alternatives), &snap);
        self.card(ui, at(l.shape), "Shape", |app, ui| app.shape(ui, setter));
        self.card(ui, at(l.sound), "Sound", |app, ui| app.sound(ui, setter));
        self.status_bar(ui, &snap, at(l.status));

        let ctx = ui.ctx().clone();
        let dragging = matches!(
            self.drag.as_ref().map(FileDrag::state),
            Some(DragState::InProgress)
        );
        if snap.host.playing || dragging || self.gestures.any_open() {
            ctx.request_repaint_after(PLAYING_REPAINT);
        } else {
            ctx.request_repaint_after(IDLE_REPAINT);
        }
    }

    /// A rounded card with an optional title, its contents laid out inside.
    fn card(
        &mut self,
        ui: &mut Ui,
        rect: Rect,
        title: &str,
        contents: impl FnOnce(&mut LoomApp, &mut Ui),
    ) {
        ui.painter()
            .rect_filled(rect, CornerRadius::same(10), theme::PANEL);
        let inner = rect.shrink(12.0);
        ui.scope_builder(
            UiBuilder::new()
                .max_rect(inner)
                .layout(EguiLayout::top_down(Align::Min)),
            |ui| {
                ui.set_clip_rect(rect);
                if !title.is_empty() {
                    ui.label(RichText::new(title).color(theme::MUTED).strong());
                }
                contents(self, ui);
            },
        );
    }
}

/// The plugin's editor type.
pub type LoomEditor = EguiEditor<LoomApp>;

/// Builds the editor at the size saved with the project.
pub fn create(shared: EditorShared) -> Option<LoomEditor> {
    let (w, h) = *lock(&shared.params.editor_size);
    let (min_w, min_h) = layout::MIN_SIZE;
    let size = LogicalSize::new(
        f64::from(w).max(f64::from(min_w)),
        f64::from(h).max(f64::from(min_h)),
    );
    let state = EguiEditorState::from_size(size, 1.0);
    let settings = EguiNiceSettings::new()
        .with_tile("Lofi Loom")
        .with_resize_hint(
            ResizeHint::RESIZABLE.with_min_logical_size(LogicalSize::new(min_w, min_h)),
        );
    create_egui_editor(
        state,
        RepaintNotifier::new(),
        settings,
        LoomApp::new(shared),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use nice_plug::prelude::Editor;
    use nice_plug_egui::baseview::dpi::PhysicalSize;

    fn shared() -> EditorShared {
        EditorShared {
            params: Arc::new(LofiParams::default()),
            status: Arc::default(),
            views: Views::new(),
        }
    }

    #[test]
    fn the_editor_opens_at_the_saved_size_and_remembers_a_new_one() {
        let s = shared();
        let size = create(s.clone()).expect("an editor").size();
        assert_eq!((size.width, size.height), (1170, 660));
        *lock(&s.params.editor_size) = (1200, 700);
        let size = create(s.clone()).expect("an editor").size();
        assert_eq!((size.width, size.height), (1200, 700));
        // Smaller than the layout's minimum (1070 × 620) opens at the minimum.
        *lock(&s.params.editor_size) = (300, 200);
        let size = create(s.clone()).expect("an editor").size();
        assert_eq!((size.width, size.height), (1070, 620));

        // At 2× the window is 2400 × 1600 pixels: 1200 × 800 points are stored.
        let mut app = LoomApp::new(s.clone());
        app.resized(WindowSize::from_physical(
            PhysicalSize::new(2400, 1600),
            2.0,
        ));
        assert_eq!(*lock(&s.params.editor_size), (1200, 800));
    }
}
