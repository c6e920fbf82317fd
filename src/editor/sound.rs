//! The Sound card: Built-in or MIDI only (large, at the top), the presets, each instrument's
//! level, the melody voice, the texture chain and the master level.

use super::{controls, theme, LoomApp};
use crate::audio::band::{self, SoundSettings};
use crate::plugin::params::{MelodyVoiceChoice, SoundChoice, SoundParams};
use egui::{vec2, Button, RichText, Ui};
use nice_plug::prelude::{Param, ParamSetter};

/// Height of the level and texture bars.
const BAR: f32 = 22.0;
/// Height of the Built-in / MIDI only switch.
const SWITCH: f32 = 34.0;

impl LoomApp {
    /// Built-in / MIDI only, presets, levels, melody voice, texture, master.
    pub(super) fn sound(&mut self, ui: &mut Ui, setter: &ParamSetter) {
        let params = self.shared.params.clone();
        let sound = &params.sound;
        let g = &mut self.gestures;
        let built_in = sound.sound.value() == SoundChoice::BuiltIn;

        let half = (ui.available_width() - ui.spacing().item_spacing.x) / 2.0;
        ui.horizontal(|ui| {
            for (choice, label, tip) in [
                (
                    SoundChoice::BuiltIn,
                    "Built-in",
                    "Lofi Loom's own band plays the parts (the MIDI is sent too)",
                ),
                (
                    SoundChoice::MidiOnly,
                    "MIDI only",
                    "Silent audio: route the MIDI to your own instruments",
                ),
            ] {
                let on = sound.sound.value() == choice;
                let text = RichText::new(label).size(16.0).strong();
                let text = if on {
                    text.color(theme::BACKGROUND)
                } else {
                    text
                };
                let button = Button::new(text)
                    .fill(if on { theme::ACCENT } else { theme::INSET })
                    .min_size(vec2(half, SWITCH));
                if ui.add(button).on_hover_text(tip).clicked() && !on {
                    let value = sound.sound.preview_normalized(choice);
                    g.edit(
                        setter,
                        controls::click_owner(),
                        &sound.sound,
                        false,
                        Some(value),
                    );
                }
            }
        });
        let note = if built_in {
            "The band plays; MIDI goes out too."
        } else {
            "Audio is silent; MIDI goes to your instruments."
        };
        ui.label(RichText::new(note).small().color(theme::MUTED));

        ui.horizontal(|ui| {
            ui.label("Preset");
            let current = current_preset(sound);
            egui::ComboBox::from_id_salt("sound preset")
                .width(ui.available_width() - 4.0)
                .selected_text(current.unwrap_or("Custom"))
                .show_ui(ui, |ui| {
                    for (name, preset) in presets() {
                        if ui.selectable_label(current == Some(name), name).clicked() {
                            apply_preset(g, setter, sound, &preset);
                        }
                    }
                });
        });

        ui.add_space(4.0);
        ui.label(RichText::new("Levels").color(theme::MUTED).small());
        let parts = [
            (
                &sound.keys_level,
                "Keys",
                params.chords.enabled.value(),
                theme::CHORDS,
            ),
            (
                &sound.melody_level,
                "Melody",
                params.melody.enabled.value(),
                theme::MELODY,
            ),
            (
                &sound.bass_level,
                "Bass",
                params.bass.enabled.value(),
                theme::BASS,
            ),
            (
                &sound.kit_level,
                "Kit",
                params.drums.enabled.value(),
                theme::DRUMS,
            ),
        ];
        for (level, name, on, colour) in parts {
            let label = if on {
                name.to_owned()
            } else {
                format!("{name} (part off)")
            };
            let colour = if on { colour } else { theme::MUTED };
            controls::value_bar(ui, g, setter, level, &label, colour, BAR)
                .on_hover_text("Follows the part's on/off in the Shape card");
        }
        ui.horizontal(|ui| {
            ui.label("Melody voice");
            controls::enum_combo(
                ui,
                g,
                setter,
                &sound.melody_voice,
                ui.available_width() - 8.0,
            );
        });

        ui.add_space(4.0);
        ui.label(RichText::new("Texture").color(theme::MUTED).small());
        let texture = [
            (&sound.tone, "Tone", "Low-pass: darker as it rises"),
            (&sound.wobble, "Wobble", "Tape wow and flutter"),
            (&sound.drive, "Drive", "Tape saturation"),
            (&sound.dust, "Dust", "Vinyl crackle and hiss"),
            (&sound.crush, "Crush", "Fewer bits and a lower sample rate"),
            (&sound.space, "Space", "A small room"),
        ];
        for (param, name, tip) in texture {
            controls::value_bar(ui, g, setter, param, name, theme::ACCENT, BAR).on_hover_text(tip);
        }
        ui.add_space(4.0);
        controls::value_bar(ui, g, setter, &sound.master, "Master", theme::TEXT, BAR)
            .on_hover_text("After the texture; a limiter keeps peaks under −1 dBFS");
    }
}

/// The presets the menu offers: the band's default sound, then the named presets.
fn presets() -> impl Iterator<Item = (&'static str, SoundSettings)> {
    std::iter::once(("Default", band::DEFAULT_SETTINGS)).chain(band::PRESETS)
}

/// The preset whose values the parameters hold now, if any.
fn current_preset(sound: &SoundParams) -> Option<&'static str> {
    presets().find_map(|(name, preset)| {
        let floats = sound
            .preset_values(&preset)
            .iter()
            .all(|(param, value)| (param.value() - value).abs() < 0.05);
        let voice = sound.melody_voice.value() == MelodyVoiceChoice::of(preset.melody_voice);
        (floats && voice).then_some(name)
    })
}

/// Sets every parameter a preset names, each as one complete gesture.
fn apply_preset(
    g: &mut controls::Gestures,
    setter: &ParamSetter,
    sound: &SoundParams,
    preset: &SoundSettings,
) {
    let owner = controls::click_owner();
    for (param, value) in sound.preset_values(preset) {
        g.edit(
            setter,
            owner,
            param,
            false,
            Some(param.preview_normalized(value)),
        );
    }
    let voice = MelodyVoiceChoice::of(preset.melody_voice);
    let value = sound.melody_voice.preview_normalized(voice);
    g.edit(setter, owner, &sound.melody_voice, false, Some(value));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::params::LofiParams;

    #[test]
    fn a_fresh_instance_shows_the_default_preset_and_others_are_custom() {
        let p = LofiParams::default();
        assert_eq!(current_preset(&p.sound), Some("Default"));
        let names: Vec<&str> = presets().map(|(name, _)| name).collect();
        assert_eq!(
            names,
            [
                "Default",
                "Dusty tape",
                "Clean keys",
                "Late night",
                "Broken cassette"
            ]
        );
        // Every preset differs from the default in what the menu compares.
        for (name, preset) in band::PRESETS {
            let differs = p
                .sound
                .preset_values(&preset)
                .iter()
                .any(|(param, value)| (param.value() - value).abs() >= 0.05)
                || MelodyVoiceChoice::of(preset.melody_voice) != p.sound.melody_voice.value();
            assert!(differs, "{name} looks like the default");
        }
    }
}
