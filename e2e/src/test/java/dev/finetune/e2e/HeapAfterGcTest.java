package dev.finetune.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The heap in use read from GC.heap_info as Java 25 prints it for the Serial and G1 collectors. */
class HeapAfterGcTest {

    @Test
    void serialSumsItsGenerations() {
        String serial = """
                1:
                DefNew     total 39296K, used 1000K [0x00000000f8000000, 0x00000000faaa0000, 0x00000000faaa0000)
                 eden space 34944K,   0% used [0x00000000f8000000, 0x00000000f8000000, 0x00000000fa220000)
                 from space 4352K,   0% used [0x00000000fa660000, 0x00000000fa660000, 0x00000000faaa0000)
                Tenured    total 87424K, used 42208K [0x00000000faaa0000, 0x0000000100000000, 0x0000000100000000)
                 the  space 87424K,  48% used [0x00000000faaa0000, 0x00000000fd3d8080, 0x0000000100000000)
                Metaspace       used 812K, committed 960K, reserved 1114112K
                """;
        assertThat(HeapAfterGc.usedHeapBytes(serial)).isEqualTo((1000 + 42208) * 1024L);
    }

    @Test
    void g1HasOneHeapLine() {
        String g1 = """
                garbage-first heap   total 262144K, used 20480K [0x00000000f0000000, 0x0000000100000000)
                  region size 1024K, 1 young (1024K), 0 survivors (0K)
                 Metaspace       used 812K, committed 960K, reserved 1114112K
                  class space    used 70K, committed 128K, reserved 1048576K
                """;
        assertThat(HeapAfterGc.usedHeapBytes(g1)).isEqualTo(20480 * 1024L);
    }

    @Test
    void somethingElseIsAnErrorNotZero() {
        assertThatThrownBy(() -> HeapAfterGc.usedHeapBytes("Command not found"))
                .hasMessageContaining("GC.heap_info");
    }
}
