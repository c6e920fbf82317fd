"""The conditional VAE: a bar encoder and an autoregressive GRU decoder over phrase tokens.

Sequence: a phrase of up to 8 bars is 9 tokens per bar (chord, then 8 melody steps). The
decoder state h is "everything consumed so far"; the next token is predicted from h
(chord head at bar starts, melody head otherwise), then consumed:

    x = emb[token] + pos_emb[position in bar] + bar_emb[bar] + chord_emb[bar's chord] + W_c c
    h = GRUCell(x, h)

with c = [z, energy, valence, one-hot mode] and h_0 = tanh(W_0 c). The melody thus always
sees the bar's chord and every previous token. The encoder reads the phrase bar by bar
(bidirectional GRU) together with (energy, valence, mode) and gives q(z | phrase, c). A
mode head predicts the mode from (z, energy, valence).
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

from . import vocab as V

N_MODES = 7
SEQ = V.MAX_BARS * V.TOKENS_PER_BAR
IN_VOCAB = V.CHORD_VOCAB + V.MELODY_VOCAB  # melody tokens are offset by CHORD_VOCAB


class Config:
    """Sizes of the model (stored with checkpoints)."""

    def __init__(self, z_dim=16, emb=128, hidden=128, enc_emb=32, enc_hidden=128,
                 dropout=0.3):
        self.z_dim, self.emb, self.hidden = z_dim, emb, hidden
        self.dropout = dropout  # on the decoder's inputs and states (training only)
        self.enc_emb, self.enc_hidden = enc_emb, enc_hidden

    @property
    def cond_dim(self):
        return self.z_dim + 2 + N_MODES


def input_ids(tokens: torch.Tensor) -> torch.Tensor:
    """[B, 8, 9] tokens (-1 = padding) -> [B, 72] ids into the shared input embedding."""
    ids = tokens.clone()
    ids[:, :, 1:] = torch.where(ids[:, :, 1:] >= 0, ids[:, :, 1:] + V.CHORD_VOCAB, ids[:, :, 1:])
    return ids.reshape(tokens.shape[0], -1)


class Decoder(nn.Module):
    """Autoregressive GRU decoder conditioned on c = [z, energy, valence, mode]."""

    def __init__(self, cfg: Config):
        super().__init__()
        self.cfg = cfg
        self.emb = nn.Embedding(IN_VOCAB, cfg.emb)
        self.pos_emb = nn.Embedding(V.TOKENS_PER_BAR, cfg.emb)
        self.bar_emb = nn.Embedding(V.MAX_BARS, cfg.emb)
        self.chord_emb = nn.Embedding(V.CHORD_VOCAB, cfg.emb)
        self.cond_in = nn.Linear(cfg.cond_dim, cfg.emb)
        self.h0 = nn.Linear(cfg.cond_dim, cfg.hidden)
        self.gru = nn.GRU(cfg.emb, cfg.hidden, batch_first=True)
        self.chord_head = nn.Linear(cfg.hidden, V.CHORD_VOCAB)
        self.melody_head = nn.Linear(cfg.hidden, V.MELODY_VOCAB)
        self.drop = nn.Dropout(cfg.dropout)

    def cond(self, z, energy, valence, mode):
        return torch.cat([z, energy[:, None], valence[:, None],
                          F.one_hot(mode.long(), N_MODES).float()], dim=1)

    def forward(self, tokens, c):
        """Teacher-forced logits: (chord [B, 8, 169], melody [B, 8, 8, 39])."""
        b = tokens.shape[0]
        ids = input_ids(tokens).clamp(min=0)
        chords = tokens[:, :, 0].clamp(min=0)
        pos = torch.arange(SEQ) % V.TOKENS_PER_BAR
        bar = torch.arange(SEQ) // V.TOKENS_PER_BAR
        x = (self.emb(ids) + self.pos_emb(pos)[None] + self.bar_emb(bar)[None]
             + self.chord_emb(chords).repeat_interleave(V.TOKENS_PER_BAR, dim=1)
             + self.cond_in(c)[:, None])
        h0 = torch.tanh(self.h0(c))
        out, _ = self.gru(self.drop(x), h0[None])
        states = torch.cat([h0[:, None], out[:, :-1]], dim=1).reshape(
            b, V.MAX_BARS, V.TOKENS_PER_BAR, -1)
        states = self.drop(states)
        return self.chord_head(states[:, :, 0]), self.melody_head(states[:, :, 1:])


class Encoder(nn.Module):
    """q(z | phrase, energy, valence, mode): bar vectors through a bidirectional GRU."""

    def __init__(self, cfg: Config):
        super().__init__()
        self.emb = nn.Embedding(IN_VOCAB + 1, cfg.enc_emb)  # last id = padding
        self.bar = nn.Linear(V.TOKENS_PER_BAR * cfg.enc_emb, cfg.enc_hidden)
        self.gru = nn.GRU(cfg.enc_hidden, cfg.enc_hidden, batch_first=True,
                          bidirectional=True)
        self.out = nn.Linear(2 * cfg.enc_hidden + 2 + N_MODES, 2 * cfg.z_dim)

    def forward(self, tokens, n_bars, energy, valence, mode):
        b = tokens.shape[0]
        ids = input_ids(tokens)
        ids = torch.where(ids < 0, torch.full_like(ids, IN_VOCAB), ids)
        bars = torch.tanh(self.bar(self.emb(ids).reshape(b, V.MAX_BARS, -1)))
        packed = nn.utils.rnn.pack_padded_sequence(bars, n_bars.cpu().long(),
                                                   batch_first=True, enforce_sorted=False)
        _, h = self.gru(packed)
        feats = torch.cat([h[0], h[1], energy[:, None], valence[:, None],
                           F.one_hot(mode.long(), N_MODES).float()], dim=1)
        mu, logvar = self.out(feats).chunk(2, dim=1)
        return mu, logvar.clamp(-8, 4)


class ModeHead(nn.Module):
    """p(mode | z, energy, valence)."""

    def __init__(self, cfg: Config):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(cfg.z_dim + 2, 64), nn.Tanh(), nn.Linear(64, N_MODES))

    def forward(self, z, energy, valence):
        return self.net(torch.cat([z, energy[:, None], valence[:, None]], dim=1))


class LofiVAE(nn.Module):
    """Encoder + decoder + mode head."""

    def __init__(self, cfg: Config):
        super().__init__()
        self.cfg = cfg
        self.encoder = Encoder(cfg)
        self.decoder = Decoder(cfg)
        self.mode_head = ModeHead(cfg)

    def forward(self, tokens, n_bars, energy, valence, mode, prior_z_prob=0.0):
        mu, logvar = self.encoder(tokens, n_bars, energy, valence, mode)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        if prior_z_prob > 0:
            # Some phrases are decoded from a prior sample instead, as at inference: the
            # decoder must then produce them from (energy, valence, mode) alone.
            use_prior = torch.rand(z.shape[0], 1) < prior_z_prob
            z = torch.where(use_prior, torch.randn_like(z), z)
        c = self.decoder.cond(z, energy, valence, mode)
        chord_logits, mel_logits = self.decoder(tokens, c)
        # z is detached for the mode head so it does not push mode information into z: the
        # mode should follow the knobs (valence), z only adds variety.
        mode_logits = self.mode_head(z.detach(), energy, valence)
        return chord_logits, mel_logits, mode_logits, mu, logvar
