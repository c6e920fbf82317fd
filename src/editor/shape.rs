//! The Shape card: swing, humanize, Lazy, length, key, mode, swap, the locks, Drums only and
//! the parts (chords, bass, melody, drums).

use super::{controls, theme, LoomApp};
use crate::music::knobs;
use crate::music::phrase::Part;
use crate::plugin::params::{KitChoice, PartParams};
use egui::{vec2, Align, CornerRadius, Layout as EguiLayout, RichText, Sense, Ui};
use nice_plug::prelude::ParamSetter;

impl LoomApp {
    /// Swing, humanize, length, key, mode, swap, locks, parts.
    pub(super) fn shape(&mut self, ui: &mut Ui, setter: &ParamSetter) {
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
                controls::value_bar(ui, g, setter, &params.lazy, "Lazy", theme::DRUMS, 26.0)
                    .on_hover_text("The snare lays back and the hats push ahead");
                controls::toggle(ui, g, setter, &params.lock_chords, "Lock chords")
                    .on_hover_text("New phrases keep these chords and write a new melody");
                controls::toggle(ui, g, setter, &params.lock_rhythm, "Lock melody rhythm")
                    .on_hover_text("New phrases keep the melody's rhythm and choose new notes");
                controls::toggle(ui, g, setter, &params.lock_drums, "Lock drums")
                    .on_hover_text("New phrases keep this groove");
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
                ui.add_space(4.0);
                if ui
                    .button("New drums only")
                    .on_hover_text("Write a new groove and keep the chords and melody")
                    .clicked()
                {
                    controls::flip(g, setter, &params.regenerate_drums);
                }
            });
            ui.add_space(gap);
            column(ui, widths[2], &mut |ui| {
                egui::Grid::new("parts")
                    .num_columns(3)
                    .spacing(vec2(6.0, 6.0))
                    .show(ui, |ui| {
                        ui.label(RichText::new("Part").small().color(theme::MUTED));
                        ui.label(RichText::new("Channel").small().color(theme::MUTED));
                        ui.label(RichText::new("Octave / kit").small().color(theme::MUTED));
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
                                i32::from(knobs::CHANNELS.0)..=i32::from(knobs::CHANNELS.1),
                                |c| c.to_string(),
                                28.0,
                            )
                            .on_hover_text(format!("MIDI channel of the {name} part"));
                            controls::int_combo(
                                ui,
                                g,
                                setter,
                                &part.octave,
                                i32::from(knobs::OCTAVES.0)..=i32::from(knobs::OCTAVES.1),
                                |o| match o {
                                    0 => "0".to_owned(),
                                    o => format!("{o:+}"),
                                },
                                28.0,
                            )
                            .on_hover_text(format!("Octave shift of the {name} part"));
                            ui.end_row();
                        }
                        let drums = &params.drums;
                        ui.horizontal(|ui| {
                            ui.spacing_mut().item_spacing.x = 4.0;
                            let (r, _) = ui.allocate_exact_size(vec2(8.0, 8.0), Sense::hover());
                            ui.painter().rect_filled(
                                r,
                                CornerRadius::same(2),
                                theme::part_colour(Part::Drums),
                            );
                            controls::toggle(ui, g, setter, &drums.enabled, "Drums");
                        });
                        controls::int_combo(
                            ui,
                            g,
                            setter,
                            &drums.channel,
                            i32::from(knobs::CHANNELS.0)..=i32::from(knobs::CHANNELS.1),
                            |c| c.to_string(),
                            28.0,
                        )
                        .on_hover_text(
                            "MIDI channel of the drums (10 is the General MIDI drum channel)",
                        );
                        let short = match drums.kit.value() {
                            KitChoice::GeneralMidi => "GM",
                            KitChoice::Chromatic => "C1…",
                        };
                        controls::enum_combo_showing(ui, g, setter, &drums.kit, 44.0, short)
                            .on_hover_text(
                                "Which key each drum plays: General MIDI, or sequential pads \
                                 from C1",
                            );
                        ui.end_row();
                    });
            });
        });
    }
}
