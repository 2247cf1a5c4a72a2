"""``SummaryWriter`` and ``FileWriter`` (torch.utils.tensorboard.writer) with no dependency: event
files are written by this package (TFRecord framing, hand-encoded protocol buffers), so the
``tensorboard`` package is needed only to *view* them (``tensorboard --logdir runs``).

Supported: scalars (``add_scalar``, ``add_scalars``), histograms (``add_histogram``,
``add_histogram_raw``), text, tensors, images (``add_image``, ``add_images``, ``add_figure`` with
matplotlib), audio, hparams. Not supported (raise ``NotImplementedError`` saying so):
``add_graph`` / ``add_onnx_graph`` (they need TorchScript or ONNX graphs; use ``mt.jit.trace(...).graph``
or ``mt.onnx`` instead), ``add_video``, ``add_embedding``, ``add_mesh``, ``add_pr_curve``,
``add_custom_scalars``.

Values are read on the host: logging a Tensor waits for the device, and inside an
``mt.jit``-compiled function it raises (a ``TracedValueError`` that ``mt.jit`` reports as a
``JitError``): return the values from the compiled step and log them outside it.
"""

from __future__ import annotations

import os
import socket
import time
from datetime import datetime

from . import _hparams, _image, _summary
from ._convert import make_np
from ._event_file import EventFileWriter
from ._messages import Event, SessionLog, session_log

__all__ = ["FileWriter", "SummaryWriter"]


def _as_step(global_step, fn: str):
    if global_step is None:
        return None
    if isinstance(global_step, int):
        return global_step
    return int(make_np(global_step, fn).reshape(-1)[0])


class FileWriter:
    """Writes ``Event`` protocol buffers to an event file in ``log_dir`` (see :class:`SummaryWriter`
    for the arguments). ``add_summary`` takes an encoded ``Summary``."""

    def __init__(self, log_dir, max_queue: int = 10, flush_secs: float = 120, filename_suffix: str = ""):
        log_dir = str(log_dir)
        self.event_writer = EventFileWriter(log_dir, max_queue, flush_secs, filename_suffix)

    def get_logdir(self) -> str:
        """The directory this writer writes to."""
        return self.event_writer.get_logdir()

    def add_event(self, event: Event, step=None, walltime=None) -> None:
        """Add ``event`` (an :class:`Event`), setting its wall time (``walltime`` or now) and, when
        given, its step."""
        event.wall_time = time.time() if walltime is None else float(walltime)
        if step is not None:
            event.step = int(step)
        self.event_writer.add_event(event)

    def add_summary(self, summary: bytes, global_step=None, walltime=None) -> None:
        """Add an encoded ``Summary`` as an event at ``global_step``."""
        self.add_event(Event(summary=summary), global_step, walltime)

    def add_graph(self, graph_profile, walltime=None) -> None:
        """Not supported (see :meth:`SummaryWriter.add_graph`)."""
        _unsupported("add_graph")

    def add_onnx_graph(self, graph, walltime=None) -> None:
        """Not supported (see :meth:`SummaryWriter.add_graph`)."""
        _unsupported("add_onnx_graph")

    def flush(self) -> None:
        """Write the pending events to disk."""
        self.event_writer.flush()

    def close(self) -> None:
        """Write the pending events and close the file (idempotent)."""
        self.event_writer.close()

    def reopen(self) -> None:
        """After :meth:`close`, continue in a new event file in the same directory."""
        self.event_writer.reopen()


_WHY = {
    "add_graph": "model graphs are TorchScript/ONNX GraphDefs, which minitorch_jax does not produce; "
                 "inspect a compiled function with mt.jit.trace(fn, example_inputs).graph or .lower(...)",
    "add_onnx_graph": "ONNX graph import is not supported",
}


def _unsupported(name: str):
    why = _WHY.get(name, "this summary kind is not implemented in minitorch_jax")
    raise NotImplementedError(f"SummaryWriter.{name}() is not supported: {why}.")


class SummaryWriter:
    """Writes entries to event files in ``log_dir`` to be read by TensorBoard (torch's API).

    Events are buffered and written by a background flush (see ``max_queue``/``flush_secs``), so a
    training loop does not wait on the disk. Values (``mt.Tensor``, numpy or jax arrays, numbers) are
    read on the host: a Tensor synchronises with the device, and must not be logged inside an
    ``mt.jit``-compiled function (that raises; log the returned values outside instead).

    Args:
        log_dir (str): directory to write to. Default ``runs/<CURRENT_DATETIME>_<HOSTNAME><comment>``.
        comment (str): suffix of the default ``log_dir``; ignored when ``log_dir`` is given.
        purge_step (int): when resuming a crashed run at step ``T``, TensorBoard hides events of
            this run with step >= ``T`` written before.
        max_queue (int): pending events that force a write to disk. Default 10.
        flush_secs (int): how often pending events are flushed, in seconds. Default 120.
        filename_suffix (str): suffix of every event file name.

    Example::

        with mt.utils.tensorboard.SummaryWriter("runs/exp1") as w:
            for step in range(100):
                w.add_scalar("loss", loss.item(), step)
    """

    def __init__(self, log_dir=None, comment: str = "", purge_step=None, max_queue: int = 10,
                 flush_secs: int = 120, filename_suffix: str = ""):
        if not log_dir:
            stamp = datetime.now().strftime("%b%d_%H-%M-%S")
            log_dir = os.path.join("runs", stamp + "_" + socket.gethostname() + comment)
        self.log_dir = str(log_dir)
        self.purge_step = purge_step
        self.max_queue = max_queue
        self.flush_secs = flush_secs
        self.filename_suffix = filename_suffix
        self.file_writer: FileWriter | None = None
        self.all_writers: dict[str, FileWriter] | None = None
        self._get_file_writer()
        self.default_bins = _summary.default_bins()

    def _get_file_writer(self) -> FileWriter:
        """The main FileWriter, created again after :meth:`close`."""
        if self.all_writers is None or self.file_writer is None:
            self.file_writer = FileWriter(self.log_dir, self.max_queue, self.flush_secs, self.filename_suffix)
            self.all_writers = {self.file_writer.get_logdir(): self.file_writer}
            if self.purge_step is not None:
                step = int(self.purge_step)
                self.file_writer.add_event(Event(step=step, file_version="brain.Event:2"))
                self.file_writer.add_event(Event(step=step, session_log=session_log(SessionLog.START)))
                self.purge_step = None
        return self.file_writer

    def get_logdir(self) -> str:
        """The directory event files are written to."""
        return self.log_dir

    def add_scalar(self, tag, scalar_value, global_step=None, walltime=None, new_style=False,
                   double_precision=False) -> None:
        """Add a scalar.

        Args:
            tag (str): data identifier.
            scalar_value (float, int, or one-element Tensor/array): value to save.
            global_step (int): step to record. walltime (float): event time (default now).
            new_style (bool): write a tensor summary (loads faster in TensorBoard) instead of
                ``simple_value``. double_precision (bool): with ``new_style``, store a float64.
        """
        summary = _summary.scalar(tag, scalar_value, new_style, double_precision)
        self._get_file_writer().add_summary(summary, _as_step(global_step, "add_scalar"), walltime)

    def add_scalars(self, main_tag, tag_scalar_dict, global_step=None, walltime=None) -> None:
        """Add several scalars under ``main_tag``; each goes to its own run directory
        ``<log_dir>/<main_tag with '/' as '_'>_<tag>`` so TensorBoard plots them in one chart.

        Args:
            main_tag (str): parent tag. tag_scalar_dict (dict): tag -> value.
            global_step (int), walltime (float): as in :meth:`add_scalar`.
        """
        walltime = time.time() if walltime is None else walltime
        logdir = self._get_file_writer().get_logdir()
        step = _as_step(global_step, "add_scalars")
        for tag, value in tag_scalar_dict.items():
            fw_tag = logdir + "/" + main_tag.replace("/", "_") + "_" + tag
            fw = self.all_writers.get(fw_tag)
            if fw is None:
                fw = FileWriter(fw_tag, self.max_queue, self.flush_secs, self.filename_suffix)
                self.all_writers[fw_tag] = fw
            fw.add_summary(_summary.scalar(main_tag, value, fn="add_scalars"), step, walltime)

    def add_tensor(self, tag, tensor, global_step=None, walltime=None) -> None:
        """Add a whole tensor (values and shape) for TensorBoard's tensor plugin."""
        summary = _summary.tensor(tag, tensor)
        self._get_file_writer().add_summary(summary, _as_step(global_step, "add_tensor"), walltime)

    def add_histogram(self, tag, values, global_step=None, bins="tensorflow", walltime=None,
                      max_bins=None) -> None:
        """Add a histogram of ``values``.

        Args:
            tag (str): data identifier. values (Tensor or array, any shape): values to bin.
            bins (str, int or sequence): 'tensorflow' (TensorBoard's exponential buckets), a numpy
                rule ('auto', 'fd', ...), a bin count or bin edges (numpy.histogram's ``bins``).
            max_bins (int): merge neighbouring bins down to at most this many.
        """
        if isinstance(bins, str) and bins == "tensorflow":
            bins = self.default_bins
        summary = _summary.histogram(tag, values, bins, max_bins=max_bins)
        self._get_file_writer().add_summary(summary, _as_step(global_step, "add_histogram"), walltime)

    def add_histogram_raw(self, tag, min, max, num, sum, sum_squares, bucket_limits, bucket_counts,  # noqa: A002
                          global_step=None, walltime=None) -> None:
        """Add a histogram given its statistics and buckets (``bucket_limits[i]`` is the right edge
        of bucket ``i``; both lists have the same length)."""
        summary = _summary.histogram_raw(tag, min, max, num, sum, sum_squares, bucket_limits, bucket_counts)
        self._get_file_writer().add_summary(summary, _as_step(global_step, "add_histogram_raw"), walltime)

    def add_image(self, tag, img_tensor, global_step=None, walltime=None, dataformats="CHW") -> None:
        """Add an image (PNG-encoded; no pillow needed).

        Args:
            img_tensor (Tensor or array): shape ``(3, H, W)`` by default (``dataformats`` 'CHW',
                'HWC', 'HW' ...); float values in [0, 1], or uint8 in [0, 255].
        """
        summary = _image.image(tag, img_tensor, dataformats, "add_image")
        self._get_file_writer().add_summary(summary, _as_step(global_step, "add_image"), walltime)

    def add_images(self, tag, img_tensor, global_step=None, walltime=None, dataformats="NCHW") -> None:
        """Add a batch of images ``(N, C, H, W)`` (or 'NHWC'), tiled 8 per row into one image."""
        summary = _image.image(tag, img_tensor, dataformats, "add_images")
        self._get_file_writer().add_summary(summary, _as_step(global_step, "add_images"), walltime)

    def add_figure(self, tag, figure, global_step=None, close=True, walltime=None) -> None:
        """Render a matplotlib figure (or a list of them, tiled) into an image (needs matplotlib)."""
        img = _image.figure_to_image(figure, close)
        if isinstance(figure, list):
            self.add_images(tag, img, global_step, walltime, dataformats="NCHW")
        else:
            self.add_image(tag, img, global_step, walltime, dataformats="CHW")

    def add_audio(self, tag, snd_tensor, global_step=None, sample_rate=44100, walltime=None) -> None:
        """Add mono audio: ``snd_tensor`` of shape ``(L,)`` or ``(1, L)`` with values in [-1, 1]."""
        summary = _image.audio(tag, snd_tensor, sample_rate)
        self._get_file_writer().add_summary(summary, _as_step(global_step, "add_audio"), walltime)

    def add_text(self, tag, text_string, global_step=None, walltime=None) -> None:
        """Add a text (Markdown) string; TensorBoard shows it under ``<tag>/text_summary``."""
        summary = _summary.text(tag, text_string)
        self._get_file_writer().add_summary(summary, _as_step(global_step, "add_text"), walltime)

    def add_hparams(self, hparam_dict, metric_dict, hparam_domain_discrete=None, run_name=None,
                    global_step=None) -> None:
        """Add hyperparameters and their metrics for TensorBoard's HParams dashboard, in the run
        ``<log_dir>/<run_name>`` (default: the current time).

        Args:
            hparam_dict (dict): name -> int, float, str, bool or one-element Tensor.
            metric_dict (dict): name -> value; each is also logged with :meth:`add_scalar`.
            hparam_domain_discrete (dict): name -> list of the values it can take.
            run_name (str): sub-directory of this run. global_step (int): step to record.
        """
        if type(hparam_dict) is not dict or type(metric_dict) is not dict:
            raise TypeError("hparam_dict and metric_dict should be dictionary.")
        exp, ssi, sei = _hparams.hparams(hparam_dict, metric_dict, hparam_domain_discrete)
        if not run_name:
            run_name = str(time.time())
        logdir = os.path.join(self._get_file_writer().get_logdir(), run_name)
        with SummaryWriter(log_dir=logdir) as w_hp:
            step = _as_step(global_step, "add_hparams")
            for s in (exp, ssi, sei):
                w_hp.file_writer.add_summary(s, step)
            for k, v in metric_dict.items():
                w_hp.add_scalar(k, v, global_step)

    def add_graph(self, model, input_to_model=None, verbose=False, use_strict_trace=True) -> None:
        """Not supported: raises ``NotImplementedError`` (minitorch_jax has no TorchScript graph;
        use ``mt.jit.trace(model, inputs).graph`` to inspect a model's program)."""
        _unsupported("add_graph")

    def add_onnx_graph(self, prototxt) -> None:
        """Not supported: raises ``NotImplementedError``."""
        _unsupported("add_onnx_graph")

    def add_video(self, tag, vid_tensor, global_step=None, fps=4, walltime=None) -> None:
        """Not supported: raises ``NotImplementedError``."""
        _unsupported("add_video")

    def add_embedding(self, mat, metadata=None, label_img=None, global_step=None, tag="default",
                      metadata_header=None) -> None:
        """Not supported: raises ``NotImplementedError``."""
        _unsupported("add_embedding")

    def add_pr_curve(self, tag, labels, predictions, global_step=None, num_thresholds=127, weights=None,
                     walltime=None) -> None:
        """Not supported: raises ``NotImplementedError``."""
        _unsupported("add_pr_curve")

    def add_mesh(self, tag, vertices, colors=None, faces=None, config_dict=None, global_step=None,
                 walltime=None) -> None:
        """Not supported: raises ``NotImplementedError``."""
        _unsupported("add_mesh")

    def add_custom_scalars(self, layout) -> None:
        """Not supported: raises ``NotImplementedError``."""
        _unsupported("add_custom_scalars")

    def flush(self) -> None:
        """Write every pending event of every file of this writer to disk."""
        if self.all_writers is None:
            return
        for writer in self.all_writers.values():
            writer.flush()

    def close(self) -> None:
        """Flush and close every event file (idempotent; a later ``add_*`` starts a new file)."""
        if self.all_writers is None:
            return
        for writer in self.all_writers.values():
            writer.flush()
            writer.close()
        self.file_writer = self.all_writers = None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        self.close()
