"""Training plans derived from the data, when training stops, and the cores other processes leave."""

import subprocess
import sys
import time

from spanledger.ner.cpu import FreeCores, available_cores
from spanledger.ner.schedule import (
    LEARNED_WORDS_MIN_TOKENS,
    MAX_EPOCHS,
    MIN_EPOCHS,
    Stopping,
    learns_words,
    min_learning_rate,
    plan,
)


def test_few_long_documents_get_one_sequence_a_step_and_more_epochs():
    nine = plan([400] * 9)
    assert nine.mini_batch_size == 1 and nine.steps_per_epoch == 9
    assert nine.max_epochs * nine.steps_per_epoch >= 800 and nine.max_epochs <= MAX_EPOCHS


def test_many_short_sentences_keep_batches_of_sixteen_and_thirty_epochs():
    sentences = plan([25] * 1000)
    assert (sentences.mini_batch_size, sentences.max_epochs) == (16, MIN_EPOCHS)


def test_settings_given_explicitly_are_kept():
    fixed = plan([400] * 9, mini_batch_size=4, max_epochs=3)
    assert (fixed.mini_batch_size, fixed.max_epochs, fixed.steps_per_epoch) == (4, 3, 3)


def test_word_vectors_are_learned_from_enough_whole_documents_unless_a_recipe_says_otherwise():
    documents = [300] * (LEARNED_WORDS_MIN_TOKENS // 300 + 1)
    assert learns_words(None, plan(documents)) and not learns_words(None, plan(documents[:10]))
    sentences = [25] * (4 * LEARNED_WORDS_MIN_TOKENS // 25)  # as many tokens, in short sequences
    assert not learns_words(None, plan(sentences))
    assert learns_words(True, plan([10])) and not learns_words(False, plan(documents * 10))


def test_training_stops_before_an_epoch_that_would_pass_the_time_limit():
    timed = Stopping(max_seconds=10)
    assert not timed.after_epoch(4.0)  # another 4 s epoch ends at 8 s
    assert timed.after_epoch(8.0)  # another would end at 12 s
    assert timed.stopped_because == "timeLimit"
    assert not any(Stopping().after_epoch(1000.0 * k) for k in range(1, 5))


def test_the_learning_rate_floor_is_crossed_at_the_chosen_halving():
    floor = min_learning_rate(0.1, 4)
    assert 0.1 / 2 ** 3 > floor > 0.1 / 2 ** 4


def test_free_cores_leave_out_a_busy_process():
    if available_cores() < 2:
        return
    cores = FreeCores()
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.3)
        cores.threads()  # from here on, the busy process has run the whole interval
        time.sleep(1.0)
        assert 1 <= cores.threads() <= available_cores() - 1
    finally:
        busy.kill()
        busy.wait()
