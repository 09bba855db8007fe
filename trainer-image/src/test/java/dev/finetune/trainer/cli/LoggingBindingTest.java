package dev.finetune.trainer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** One SLF4J binding (slf4j-simple), warnings and up, so start-up prints no SLF4J(W) lines and no INFO chatter. */
class LoggingBindingTest {

    @Test
    void slf4jBindsToSimpleLoggerAtWarn() {
        assertThat(LoggerFactory.getILoggerFactory().getClass().getName()).isEqualTo("org.slf4j.simple.SimpleLoggerFactory");
        var logger = LoggerFactory.getLogger("ai.djl.pytorch.engine.PtEngine");
        assertThat(logger.isWarnEnabled()).isTrue();
        assertThat(logger.isInfoEnabled()).isFalse();
    }
}
