//! The editor: an egui window (through nice-plug-egui) to steer, see, revisit and export the
//! phrases Lofi Loom writes.
//!
//! A leaf: it receives an [`EditorShared`] bundle, reads views (atomics and the worker's
//! phrase views, never anything the audio thread locks), changes parameters through the
//! host's parameter setter (always as begin/set/end gestures, see [`controls::Gestures`]) and
//! sends [`EditorCommand`]s to the worker. It does work only while open: egui calls
//! [`LoomApp::ui`] only for an open window, and repaints are asked for only while the
//! transport plays (for the playhead) or slowly otherwise (to notice new phrases).
//!
//! Regions and their places are in [`layout`]; colours in [`theme`]; the arithmetic behind
//! the views (chord names, piano-roll geometry, XY pad, history, file names) in pure modules
//! tested without a window.

pub mod chords;
pub mod controls;
pub mod files;
pub mod layout;
pub mod roll;
pub mod steer;
pub mod theme;

use crate::dragout::{self, DragState, FileDrag, Support};
use crate::params::{LofiParams, PartParams};
use crate::phrase::Part;
use crate::state::lock;
use crate::view::{EditorCommand, HostView, PhraseView, Views};
use crate::worker::Status;
use controls::Gestures;
use egui::{
    pos2, vec2, Align, Align2, Button, Color32, CornerRadius, FontId, Layout as EguiLayout,
    PointerButton, Rect, RichText, Sense, Stroke, StrokeKind, Ui, UiBuilder,
};
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
use steer::Step;

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
        };
        let area = ui.max_rect();
        ui.painter().rect_filled(area, 0.0, theme::BACKGROUND);
        let l = Layout::new(area.size());
        let at = |r: Rect| r.translate(area.min.to_vec2());

        self.header(ui, setter, &snap, at(l.header));
        self.card(ui, at(l.mood), "Mood", |app, ui| app.mood(ui, setter));
        self.card(ui, at(l.model), "Model", |app, ui| app.model(ui));
        self.card(ui, at(l.chords), "", |_, ui| chord_card(ui, &snap));
        piano_roll(ui, at(l.roll), &snap);
        self.card(ui, at(l.shape), "Shape", |app, ui| app.shape(ui, setter));
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

    /// Title, Regenerate, regenerate mode, history, seed; export and drag on the right.
    fn header(&mut self, ui: &mut Ui, setter: &ParamSetter, snap: &Snapshot, rect: Rect) {
        let params = self.shared.params.clone();
        ui.painter().text(
            pos2(rect.left() + layout::MARGIN + 2.0, rect.center().y),
            Align2::LEFT_CENTER,
            "Lofi Loom",
            theme::big(22.0),
            theme::TEXT,
        );
        let regenerate = layout::regenerate_rect().translate(rect.min.to_vec2());
        let button = Button::new(
            RichText::new("Regenerate")
                .color(theme::ON_ACCENT)
                .strong()
                .size(16.0),
        )
        .fill(theme::ACCENT)
        .corner_radius(CornerRadius::same(8));
        let response = ui
            .put(regenerate, button)
            .on_hover_text("Write a new phrase with a new seed");
        if response.clicked() {
            controls::flip(&mut self.gestures, setter, &params.regenerate);
        }

        let left = Rect::from_min_max(
            pos2(regenerate.right() + 14.0, rect.top()),
            pos2(rect.right() - layout::MARGIN, rect.bottom()),
        );
        ui.scope_builder(
            UiBuilder::new()
                .max_rect(left)
                .layout(EguiLayout::left_to_right(Align::Center)),
            |ui| {
                ui.label(RichText::new("New phrases:").color(theme::MUTED));
                controls::enum_combo(
                    ui,
                    &mut self.gestures,
                    setter,
                    &params.regenerate_mode,
                    132.0,
                )
                .on_hover_text("When a new phrase is written without pressing Regenerate");
                ui.add_space(8.0);
                self.history(ui);
                ui.with_layout(EguiLayout::right_to_left(Align::Center), |ui| {
                    self.export_controls(ui, snap);
                });
            },
        );
    }

    /// Back / forward through the session's history.
    fn history(&mut self, ui: &mut Ui) {
        let cell = &self.shared.params.session;
        let (len, pos) = cell.read(|s| (s.history.len(), s.history_pos));
        let current = steer::current_index(len, pos);
        let back = steer::history_step(len, pos, Step::Back);
        let forward = steer::history_step(len, pos, Step::Forward);
        let mut go = None;
        if ui
            .add_enabled(back.is_some(), Button::new("‹"))
            .on_hover_text("Previous phrase")
            .clicked()
        {
            go = back;
        }
        let label = match current {
            Some(i) => format!("{} / {len}", i + 1),
            None => "– / –".to_owned(),
        };
        ui.label(RichText::new(label).monospace());
        if ui
            .add_enabled(forward.is_some(), Button::new("›"))
            .on_hover_text("Next phrase")
            .clicked()
        {
            go = forward;
        }
        let chosen = go.and_then(|i| Some((i, cell.read(|s| s.history.get(i).cloned())?)));
        if let Some((index, entry)) = chosen {
            self.shared.views.send(EditorCommand::Restore {
                index,
                entry,
                knobs: self.shared.params.knobs(),
            });
        }
    }

    /// Export button and the drag handle (right to left).
    fn export_controls(&mut self, ui: &mut Ui, snap: &Snapshot) {
        let has_phrase = snap.phrase.is_some();
        let export = ui
            .add_enabled(has_phrase, Button::new("Export .mid"))
            .on_hover_text("Write the playing phrase to your Music folder (Lofi Loom)")
            .on_disabled_hover_text("No phrase yet");
        if export.clicked() {
            self.export(snap);
        }
        match self.drag_support {
            Support::Available => {
                let (rect, response) =
                    ui.allocate_exact_size(vec2(118.0, 30.0), Sense::click_and_drag());
                let dragging = matches!(
                    self.drag.as_ref().map(FileDrag::state),
                    Some(DragState::InProgress)
                );
                let colour = if !has_phrase {
                    theme::GRID
                } else if dragging || response.hovered() {
                    theme::ACCENT
                } else {
                    theme::MUTED
                };
                let painter = ui.painter_at(rect);
                painter.rect_stroke(
                    rect,
                    CornerRadius::same(8),
                    Stroke::new(1.5, colour),
                    StrokeKind::Inside,
                );
                for i in 0..3 {
                    for j in 0..2 {
                        let c = pos2(
                            rect.left() + 12.0 + j as f32 * 5.0,
                            rect.top() + 10.0 + i as f32 * 5.0,
                        );
                        painter.circle_filled(c, 1.6, colour);
                    }
                }
                let text = if dragging { "Dragging…" } else { "Drag .mid" };
                painter.text(
                    pos2(rect.left() + 28.0, rect.center().y),
                    Align2::LEFT_CENTER,
                    text,
                    FontId::proportional(14.0),
                    if has_phrase {
                        theme::TEXT
                    } else {
                        theme::MUTED
                    },
                );
                if has_phrase && response.drag_started_by(PointerButton::Primary) && !dragging {
                    self.start_drag(snap);
                }
                response.on_hover_text("Drag the playing phrase onto a track in your DAW");
            }
            Support::Unsupported(why) => {
                let response = ui
                    .add_enabled(has_phrase, Button::new("Drag unavailable: Export"))
                    .on_hover_text(why);
                if response.clicked() {
                    self.export(snap);
                }
            }
        }
    }

    /// Writes the playing phrase to the export folder.
    fn write_file(&self, snap: &Snapshot) -> Result<PathBuf, String> {
        let phrase = snap
            .phrase
            .as_ref()
            .ok_or_else(|| "there is no phrase to export yet".to_owned())?;
        let dir = files::default_export_dir()
            .ok_or_else(|| "cannot find your Music folder (no home folder is set)".to_owned())?;
        files::write_phrase(&dir, phrase, &snap.host, files::Date::today_utc())
    }

    /// The Export button.
    fn export(&mut self, snap: &Snapshot) {
        self.outcome = Some(match self.write_file(snap) {
            Ok(path) => Outcome::Saved(path),
            Err(why) => Outcome::Problem(format!("Export failed: {why}")),
        });
    }

    /// The drag handle: writes the file, then hands it to the system's drag and drop.
    fn start_drag(&mut self, snap: &Snapshot) {
        let path = match self.write_file(snap) {
            Ok(path) => path,
            Err(why) => {
                self.outcome = Some(Outcome::Problem(format!("Drag failed: {why}")));
                return;
            }
        };
        match dragout::start_file_drag(&path) {
            Ok(drag) => {
                self.drag = Some(drag);
                self.outcome = Some(Outcome::Saved(path));
            }
            Err(why) => {
                self.drag = None;
                self.outcome = Some(Outcome::Problem(format!(
                    "{why}. The file was saved: {}",
                    path.display()
                )));
            }
        }
    }

    /// The XY pad and the big Energy and Valence bars.
    fn mood(&mut self, ui: &mut Ui, setter: &ParamSetter) {
        let params = self.shared.params.clone();
        let width = ui.available_width();
        let pad_height = (ui.available_height() - 2.0 * 40.0 - 2.0 * 8.0).clamp(120.0, 220.0);
        controls::xy_pad(
            ui,
            &mut self.gestures,
            setter,
            &params.energy,
            &params.valence,
            vec2(width, pad_height),
        );
        ui.add_space(4.0);
        controls::value_bar(
            ui,
            &mut self.gestures,
            setter,
            &params.energy,
            "Energy",
            theme::ACCENT,
            40.0,
        );
        controls::value_bar(
            ui,
            &mut self.gestures,
            setter,
            &params.valence,
            "Valence",
            theme::CHORDS,
            40.0,
        );
    }

    /// Swing, humanize, length, key, mode, swap, locks, parts.
    fn shape(&mut self, ui: &mut Ui, setter: &ParamSetter) {
        let params = self.shared.params.clone();
        let g = &mut self.gestures;
        let gap = 12.0;
        let width = ui.available_width() - 2.0 * gap;
        let widths = [width * 0.27, width * 0.31, width * 0.42];
        let column = |ui: &mut Ui, w: f32, contents: &mut dyn FnMut(&mut Ui)| {
            ui.allocate_ui_with_layout(
                vec2(w, ui.available_height()),
                EguiLayout::top_down(Align::Min),
                |ui| {
                    ui.set_width(w);
                    contents(ui);
                },
            );
        };
        ui.horizontal_top(|ui| {
            column(ui, widths[0], &mut |ui| {
                controls::value_bar(ui, g, setter, &params.swing, "Swing", theme::MELODY, 26.0);
                controls::value_bar(
                    ui,
                    g,
                    setter,
                    &params.humanize,
                    "Humanize",
                    theme::BASS,
                    26.0,
                );
                controls::toggle(ui, g, setter, &params.lock_chords, "Lock chords")
                    .on_hover_text("New phrases keep these chords and write a new melody");
                controls::toggle(ui, g, setter, &params.lock_rhythm, "Lock melody rhythm")
                    .on_hover_text("New phrases keep the melody's rhythm and choose new notes");
            });
            ui.add_space(gap);
            column(ui, widths[1], &mut |ui| {
                egui::Grid::new("phrase settings")
                    .num_columns(2)
                    .spacing(vec2(8.0, 6.0))
                    .show(ui, |ui| {
                        ui.label("Length");
                        controls::enum_combo(ui, g, setter, &params.bars, 100.0);
                        ui.end_row();
                        ui.label("Swap at");
                        controls::enum_combo(ui, g, setter, &params.swap_at, 100.0)
                            .on_hover_text("When a new phrase replaces the playing one");
                        ui.end_row();
                        ui.label("Key");
                        controls::enum_combo(ui, g, setter, &params.key, 100.0);
                        ui.end_row();
                        ui.label("Mode");
                        controls::enum_combo(ui, g, setter, &params.mode, 100.0);
                        ui.end_row();
                    });
            });
            ui.add_space(gap);
            column(ui, widths[2], &mut |ui| {
                egui::Grid::new("parts")
                    .num_columns(3)
                    .spacing(vec2(6.0, 6.0))
                    .show(ui, |ui| {
                        ui.label(RichText::new("Part").small().color(theme::MUTED));
                        ui.label(RichText::new("Channel").small().color(theme::MUTED));
                        ui.label(RichText::new("Octave").small().color(theme::MUTED));
                        ui.end_row();
                        let parts: [(&PartParams, &str, Part); 3] = [
                            (&params.chords, "Chords", Part::Chords),
                            (&params.bass, "Bass", Part::Bass),
                            (&params.melody, "Melody", Part::Melody),
                        ];
                        for (part, name, which) in parts {
                            ui.horizontal(|ui| {
                                ui.spacing_mut().item_spacing.x = 4.0;
                                let (r, _) = ui.allocate_exact_size(vec2(8.0, 8.0), Sense::hover());
                                ui.painter().rect_filled(
                                    r,
                                    CornerRadius::same(2),
                                    theme::part_colour(which),
                                );
                                controls::toggle(ui, g, setter, &part.enabled, name);
                            });
                            controls::int_combo(
                                ui,
                                g,
                                setter,
                                &part.channel,
                                1..=16,
                                |c| c.to_string(),
                                28.0,
                            )
                            .on_hover_text(format!("MIDI channel of the {name} part"));
                            controls::int_combo(
                                ui,
                                g,
                                setter,
                                &part.octave,
                                -2..=2,
                                |o| match o {
                                    0 => "0".to_owned(),
                                    o => format!("{o:+}"),
                                },
                                28.0,
                            )
                            .on_hover_text(format!("Octave shift of the {name} part"));
                            ui.end_row();
                        }
                    });
            });
        });
    }

    /// The custom model folder.
    fn model(&mut self, ui: &mut Ui) {
        let model_dir = self.shared.params.session.read(|s| s.model_dir.clone());
        // Follow the session when it changes underneath (a project loaded, a model chosen).
        if self.model_dir_seen.as_ref() != Some(&model_dir) {
            self.model_dir_text = model_dir.clone().unwrap_or_default();
            self.model_dir_seen = Some(model_dir.clone());
        }
        let using = model_dir
            .as_deref()
            .map_or_else(|| "the built-in model".to_owned(), |d| d.to_owned());
        ui.label(
            RichText::new(format!("Using {using}"))
                .small()
                .color(theme::MUTED),
        );
        ui.add(
            egui::TextEdit::singleline(&mut self.model_dir_text)
                .hint_text("Folder with your own model")
                .desired_width(ui.available_width()),
        );
        ui.horizontal(|ui| {
            let folder = self.model_dir_text.trim().to_owned();
            if ui
                .add_enabled(!folder.is_empty(), Button::new("Use"))
                .on_hover_text("Write phrases with the model in this folder")
                .clicked()
            {
                self.shared.views.send(EditorCommand::UseModel {
                    dir: Some(PathBuf::from(folder)),
                    knobs: self.shared.params.knobs(),
                });
            }
            if ui
                .add_enabled(model_dir.is_some(), Button::new("Built-in model"))
                .clicked()
            {
                self.shared.views.send(EditorCommand::UseModel {
                    dir: None,
                    knobs: self.shared.params.knobs(),
                });
            }
        });
    }

    /// Model, timing, problems and the last export, at the bottom.
    fn status_bar(&mut self, ui: &mut Ui, snap: &Snapshot, rect: Rect) {
        ui.painter().rect_filled(rect, 0.0, theme::PANEL);
        let status = self.shared.status.clone();
        let inner = rect.shrink2(vec2(layout::MARGIN, 4.0));
        ui.scope_builder(
            UiBuilder::new()
                .max_rect(inner)
                .layout(EguiLayout::top_down(Align::Min)),
            |ui| {
                ui.spacing_mut().item_spacing.y = 2.0;
                ui.horizontal(|ui| {
                    let (dot, text) = match status.source() {
                        Some(source) => (theme::OK, format!("Model: {source}")),
                        None => (theme::MUTED, "Model: loading…".to_owned()),
                    };
                    let (r, _) = ui.allocate_exact_size(vec2(10.0, 10.0), Sense::hover());
                    ui.painter().circle_filled(r.center(), 4.0, dot);
                    ui.label(text);
                    let us = status.last_generation_us();
                    if us > 0 {
                        ui.label(
                            RichText::new(format!(
                                "· last phrase written in {:.1} ms",
                                us as f64 / 1000.0
                            ))
                            .color(theme::MUTED),
                        );
                    }
                    let host = &snap.host;
                    let tempo = host.tempo_bpm.map_or("–".to_owned(), |t| format!("{t:.0}"));
                    let (n, d) = host.time_sig.unwrap_or(files::FALLBACK_TIME_SIG);
                    ui.label(
                        RichText::new(format!(
                            "· host {} · {tempo} BPM · {n}/{d}",
                            if host.playing { "playing" } else { "stopped" }
                        ))
                        .color(theme::MUTED),
                    );
                });
                ui.horizontal(|ui| {
                    if let Some(why) = self.shared.params.session.last_error() {
                        ui.label(
                            RichText::new(format!(
                                "The saved project could not be restored ({why}); the last good phrase was kept."
                            ))
                            .color(theme::ERROR),
                        );
                    } else if let Some(error) = status.error() {
                        ui.label(RichText::new(error).color(theme::ERROR));
                    } else {
                        self.outcome_line(ui);
                    }
                });
            },
        );
    }

    /// The last export or drag, with a "Copy path" action for a saved file.
    fn outcome_line(&mut self, ui: &mut Ui) {
        let drag_state = self.drag.as_ref().map(FileDrag::state);
        match &self.outcome {
            Some(Outcome::Saved(path)) => {
                let verb = match drag_state {
                    Some(DragState::InProgress) => "Dragging",
                    Some(DragState::Dropped { accepted: true }) => "Dropped",
                    Some(DragState::Dropped { accepted: false }) => "The target refused",
                    Some(DragState::Cancelled) => "Drag cancelled; saved",
                    Some(DragState::Failed(_)) => "Drag failed; saved",
                    None => "Saved",
                };
                ui.label(RichText::new(format!("{verb} {}", path.display())).color(theme::OK));
                if ui.small_button("Copy path").clicked() {
                    ui.ctx().copy_text(path.display().to_string());
                }
                if let Some(DragState::Failed(why)) = drag_state {
                    ui.label(RichText::new(why).color(theme::ERROR));
                }
            }
            Some(Outcome::Problem(why)) => {
                ui.label(RichText::new(why).color(theme::ERROR));
            }
            None => {
                if let Support::Unsupported(why) = self.drag_support {
                    ui.label(RichText::new(why).color(theme::MUTED));
                }
            }
        }
    }
}

/// Key, the chord line with the playing chord highlighted, and the phrase queued next.
fn chord_card(ui: &mut Ui, snap: &Snapshot) {
    let Some(view) = &snap.phrase else {
        ui.label(
            RichText::new("No phrase yet")
                .font(theme::big(24.0))
                .color(theme::MUTED),
        );
        ui.label(
            RichText::new("Press Regenerate, or start your DAW's transport.").color(theme::MUTED),
        );
        return;
    };
    let names = chords::chord_names(&view.progression);
    let lit = chords::highlighted_chord(snap.host.cursor_bars, view.phrase.bars(), names.len());
    ui.horizontal(|ui| {
        ui.label(
            RichText::new(chords::key_label(&view.progression))
                .color(theme::MUTED)
                .strong(),
        );
        ui.label(
            RichText::new(format!("seed {}", view.seed))
                .color(theme::MUTED)
                .monospace(),
        )
        .on_hover_text("The same seed and knobs always give the same notes");
        legend(ui);
    });
    ui.horizontal_wrapped(|ui| {
        ui.spacing_mut().item_spacing.x = 0.0;
        for (i, name) in names.iter().enumerate() {
            if i > 0 {
                ui.label(
                    RichText::new(chords::SEPARATOR)
                        .font(theme::big(24.0))
                        .color(theme::MUTED),
                );
            }
            let colour = if lit == Some(i) {
                theme::ACCENT
            } else {
                theme::TEXT
            };
            ui.label(RichText::new(name).font(theme::big(24.0)).color(colour));
        }
    });
    if let Some(next) = &snap.next {
        ui.label(
            RichText::new(format!(
                "Next, at the bar line: {}",
                chords::chord_line(&next.progression)
            ))
            .color(theme::MELODY),
        );
    }
}

/// The part colours.
fn legend(ui: &mut Ui) {
    ui.with_layout(EguiLayout::right_to_left(Align::Center), |ui| {
        for (part, name) in [
            (Part::Melody, "Melody"),
            (Part::Bass, "Bass"),
            (Part::Chords, "Chords"),
        ] {
            ui.label(RichText::new(name).small().color(theme::MUTED));
            let (r, _) = ui.allocate_exact_size(vec2(10.0, 10.0), Sense::hover());
            ui.painter()
                .rect_filled(r, CornerRadius::same(2), theme::part_colour(part));
        }
    });
}

/// The piano roll of the playing phrase with its playhead.
fn piano_roll(ui: &mut Ui, rect: Rect, snap: &Snapshot) {
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, CornerRadius::same(10), theme::INSET);
    let view_rect = rect.shrink2(vec2(10.0, 10.0));
    let Some(view) = &snap.phrase else {
        painter.text(
            rect.center(),
            Align2::CENTER_CENTER,
            "The piano roll shows the phrase here",
            FontId::proportional(15.0),
            theme::MUTED,
        );
        return;
    };
    let phrase = &view.phrase;
    let notes = phrase.notes();
    let range = roll::pitch_range(notes);
    let beats = phrase.len_beats();
    let row = roll::row_height(view_rect, range);
    // Octave shading: every C row.
    for key in range.0..=range.1 {
        if key % 12 == 0 {
            let r = roll::note_rect(
                view_rect,
                &crate::phrase::Note {
                    start_beats: 0.0,
                    len_beats: beats,
                    key,
                    velocity: 0,
                    channel: 0,
                    part: Part::Chords,
                },
                beats,
                range,
            );
            painter.rect_filled(r, 0.0, theme::GRID.gamma_multiply(0.6));
            if row >= 7.0 {
                painter.text(
                    pos2(r.left() + 2.0, r.center().y),
                    Align2::LEFT_CENTER,
                    format!("C{}", i32::from(key) / 12 - 1),
                    FontId::proportional((row * 0.9).min(10.0)),
                    theme::MUTED,
                );
            }
        }
    }
    for beat in 0..=(beats as u32) {
        let x = roll::beat_x(view_rect, f64::from(beat), beats);
        let bar_line = beat % crate::progression::BEATS_PER_BAR == 0;
        let colour = if bar_line {
            theme::BAR_LINE
        } else {
            theme::GRID
        };
        painter.line_segment(
            [pos2(x, view_rect.top()), pos2(x, view_rect.bottom())],
            Stroke::new(if bar_line { 1.5 } else { 1.0 }, colour),
        );
    }
    let playing_lit =
        chords::highlighted_chord(snap.host.cursor_bars, phrase.bars(), phrase.bars() as usize);
    if let Some(bar) = playing_lit {
        let bar_beats = f64::from(crate::progression::BEATS_PER_BAR);
        let x0 = roll::beat_x(view_rect, bar as f64 * bar_beats, beats);
        let x1 = roll::beat_x(view_rect, (bar + 1) as f64 * bar_beats, beats);
        painter.rect_filled(
            Rect::from_min_max(pos2(x0, view_rect.top()), pos2(x1, view_rect.bottom())),
            0.0,
            Color32::from_rgba_unmultiplied(0xf2, 0xa6, 0x79, 14),
        );
    }
    for part in [Part::Chords, Part::Bass, Part::Melody] {
        let colour = theme::part_colour(part);
        for note in notes.iter().filter(|n| n.part == part) {
            let r = roll::note_rect(view_rect, note, beats, range).shrink2(vec2(0.5, 0.5));
            let strength = 0.55 + 0.45 * f32::from(note.velocity) / 127.0;
            painter.rect_filled(r, CornerRadius::same(2), colour.gamma_multiply(strength));
        }
    }
    if let Some(x) = roll::playhead_x(view_rect, snap.host.cursor_bars, phrase.bars()) {
        painter.line_segment(
            [pos2(x, rect.top() + 4.0), pos2(x, rect.bottom() - 4.0)],
            Stroke::new(2.0, theme::ACCENT),
        );
    }
    if snap.next.is_some() {
        let tag = Rect::from_min_size(
            pos2(rect.right() - 64.0, rect.top() + 8.0),
            vec2(54.0, 20.0),
        );
        painter.rect_filled(
            tag,
            CornerRadius::same(6),
            theme::MELODY.gamma_multiply(0.85),
        );
        painter.text(
            tag.center(),
            Align2::CENTER_CENTER,
            "NEXT",
            FontId::proportional(12.0),
            theme::ON_ACCENT,
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
        assert_eq!((size.width, size.height), (900, 620));
        *lock(&s.params.editor_size) = (1000, 700);
        let size = create(s.clone()).expect("an editor").size();
        assert_eq!((size.width, size.height), (1000, 700));
        // Smaller than the layout's minimum (800 × 580) opens at the minimum.
        *lock(&s.params.editor_size) = (300, 200);
        let size = create(s.clone()).expect("an editor").size();
        assert_eq!((size.width, size.height), (800, 580));

        // At 2× the window is 2400 × 1600 pixels: 1200 × 800 points are stored.
        let mut app = LoomApp::new(s.clone());
        app.resized(WindowSize::from_physical(
            PhysicalSize::new(2400, 1600),
            2.0,
        ));
        assert_eq!(*lock(&s.params.editor_size), (1200, 800));
    }
}
