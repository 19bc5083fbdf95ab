"""model.py - a model built like PyTorch's word_language_model example's
RNNModel: `encoder` (nn.Embedding), `rnn` (nn.LSTM, nn.GRU or nn.RNN with
tanh or relu, chosen by rnn_type LSTM / GRU / RNN_TANH / RNN_RELU), `decoder`
(nn.Linear), sequence-first input. Written for tempest's tests; it lives in a
file called model.py so that torch.save records the class as
model.RNNModel, as the example's checkpoints do.
"""
import torch.nn as nn

NONLINEARITY = {"RNN_TANH": "tanh", "RNN_RELU": "relu"}


class RNNModel(nn.Module):
    def __init__(self, rnn_type, ntoken, ninp, nhid, nlayers, dropout=0.2):
        super().__init__()
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(ntoken, ninp)
        if rnn_type in ("LSTM", "GRU"):
            self.rnn = getattr(nn, rnn_type)(ninp, nhid, nlayers, dropout=dropout)
        else:
            self.rnn = nn.RNN(ninp, nhid, nlayers, nonlinearity=NONLINEARITY[rnn_type],
                              dropout=dropout)
        self.decoder = nn.Linear(nhid, ntoken)
        self.rnn_type, self.nhid, self.nlayers = rnn_type, nhid, nlayers

    def forward(self, tokens, hidden=None):
        """tokens [seq, batch] -> logits [seq, batch, ntoken], hidden."""
        output, hidden = self.rnn(self.drop(self.encoder(tokens)), hidden)
        return self.decoder(self.drop(output)), hidden
