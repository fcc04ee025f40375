"""The use cases: every flow that crosses ``ser``, ``asr`` and ``tts``, one module and one function each.

The faces (``app.py``, ``server.py``, ``python -m ser|asr|tts``) parse input,
call these and format what they return; nothing below this package imports
it.  Each function takes anything audio-like (a path, bytes, ``(rate, array)``,
a 16 kHz array), decodes it once (:func:`pipelines.audio.decode`) with the
limits of a :class:`~pipelines.settings.Settings`, and returns a result
dataclass with ``to_dict``:

* :func:`pipelines.recognize.recognize` — emotion and gender of one utterance;
* :func:`pipelines.words.words` — transcript, emotion of the words, fused with the voice;
* :func:`pipelines.timeline.analyze_timeline` — every utterance of a long recording;
* :func:`pipelines.revoice.revoice` — say a recording again in another emotion or voice;
* :func:`pipelines.train.train` — compare models on corpora or a zip, save the best.

The functions are not re-exported here: each shares its module's name, and
``pipelines.revoice`` must stay the module (tests patch what it imported).

>>> from pipelines.recognize import recognize
>>> recognize("clip.wav").to_dict()                          # doctest: +SKIP
"""
