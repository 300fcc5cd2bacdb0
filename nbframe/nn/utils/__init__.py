"""nbframe.nn.utils: gradient clipping, parameter vectors and nn.utils.rnn (not written yet)."""
