"""The bundled examples: an over-fitted classifier (:mod:`.classifier`) and a tiny language
model trained on generated text (:mod:`.lm`). Nothing is downloaded."""
