"""The audio stage: speech in, mouth animation out, and mouth correction of a video take.

Read top to bottom, the data flow is:

    io            decode any container/codec, resample to 16 kHz mono, reject silence
    vad           voice-activity segmentation (the aligner needs short utterances)
    text/mandarin transcript normalisation, pronunciations (pinyin -> approximate ARPAbet)
    recognize     pocketsphinx 5: forced alignment per segment, phone recognition as fallback
    energy        language-independent jaw/lip-spread track from loudness and spectral shape
    visemes       phones -> visemes -> face-board poses and ARKit weights (data/visemes.json)
    coarticulation  Cohen-Massaro dominance blending, closures kept, jaw scaled by loudness
    lipsync       the facade: `lipsync(audio, options) -> LipSyncResult`
    correction    blending the audio mouth into a video take (off / blend / replace / auto)
    take          writing an audio-only take folder; `command` registers `faceretarget-engine lipsync`
"""
