package dev.finetune.trainer.dist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.finetune.trainer.testing.Engine;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/**
 * The pointer NCCL gets: on CPU the same native call yields a host address, so writing through it and
 * reading back through DJL proves the address is the tensor's own data (no copy). On a GPU it is a device
 * pointer, which only NCCL/CUDA may touch.
 */
class FlatFloat32Test {

    @Test
    void addressOfAContiguousTensorIsItsData() {
        try (NDManager m = Engine.manager().newSubManager()) {
            NDArray flat = m.create(new float[] {1, 2, 3, 4, 5});
            long address = FlatFloat32.address(flat);
            MemorySegment data = MemorySegment.ofAddress(address).reinterpret(5 * Float.BYTES);
            assertThat(data.getAtIndex(ValueLayout.JAVA_FLOAT, 2)).isEqualTo(3f);
            for (int i = 0; i < 5; i++) {
                data.setAtIndex(ValueLayout.JAVA_FLOAT, i, 10f * i + 0.5f);
            }
            assertThat(flat.toFloatArray()).containsExactly(0.5f, 10.5f, 20.5f, 30.5f, 40.5f);
            assertThat(FlatFloat32.address(flat)).as("stable while the tensor lives").isEqualTo(address);
        }
    }

    @Test
    void aContiguousSliceStartsInsideItsBase() {
        try (NDManager m = Engine.manager().newSubManager()) {
            NDArray base = m.arange(0f, 8f);
            NDArray tail = base.get(new NDIndex("3:"));
            assertThat(FlatFloat32.address(tail) - FlatFloat32.address(base)).isEqualTo(3L * Float.BYTES);
        }
    }

    @Test
    void stridedViewIsRefused() {
        try (NDManager m = Engine.manager().newSubManager()) {
            NDArray everyOther = m.arange(0f, 8f).get(new NDIndex("::2"));
            assertThat(everyOther.getShape()).isEqualTo(new Shape(4));
            assertThatThrownBy(() -> FlatFloat32.address(everyOther))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not contiguous");
        }
    }

    @Test
    void otherDtypesShapesAndEmptyAreRefused() {
        try (NDManager m = Engine.manager().newSubManager()) {
            assertThatThrownBy(() -> FlatFloat32.address(m.create(new double[] {1, 2})))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("float32, got float64");
            assertThatThrownBy(() -> FlatFloat32.address(m.create(new int[] {1, 2})))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("got int32");
            assertThatThrownBy(() -> FlatFloat32.address(m.ones(new Shape(2, 3))))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("shape (2, 3)");
            assertThatThrownBy(() -> FlatFloat32.address(m.zeros(new Shape(0), DataType.FLOAT32)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("non-empty");
        }
    }
}
