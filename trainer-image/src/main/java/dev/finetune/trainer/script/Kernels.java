package dev.finetune.trainer.script;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.finetune.trainer.engine.ScriptModule;

/**
 * The tensor primitives DJL 0.35.1 lacks or cannot run safely in bf16, written as TorchScript
 * source that we generate here and compile with libtorch at load time (docs/djl.md).
 *
 * <p>Every method runs with autograd when the thread's grad mode is on, so the training graph
 * passes through these kernels. The semantics follow Hugging Face Transformers line by line
 * (RMSNorm in fp32, rotate_half rotary, logits upcast to fp32 before the loss).
 *
 * <p>bf16 rule of this code base: no DJL {@code toType}, {@code create}, {@code zerosLike},
 * {@code softmax}, {@code toDevice} or {@code toString} on a bf16 array; casts and creation of
 * bf16 tensors go through this class.
 */
public final class Kernels implements AutoCloseable {

    /** c10::ScalarType codes used by {@code Tensor.to(int)} in TorchScript. */
    public static final int UINT8 = 0;
    public static final int INT64 = 4;
    public static final int FLOAT16 = 5;
    public static final int FLOAT32 = 6;
    public static final int BOOL = 11;
    public static final int BFLOAT16 = 15;

    // dtypes appear as c10::ScalarType codes, as in code written by torch.jit.save:
    // 0 uint8, 5 float16, 6 float32, 7 float64, 15 bfloat16
    static final String SOURCE = """
              def embedding(self, weight: Tensor, ids: Tensor) -> Tensor:
                return torch.embedding(weight, ids)
              def linear(self, x: Tensor, weight: Tensor) -> Tensor:
                return torch.linear(x, weight)
              def linear_bias(self, x: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
                return torch.linear(x, weight, bias.to(weight.dtype))
              def lora_delta(self, x: Tensor, base: Tensor, a: Tensor, b: Tensor, scaling: float, dropout: float, train: bool) -> Tensor:
                xd = torch.dropout(x.to(a.dtype), dropout, train)
                return (base + torch.linear(torch.linear(xd, a), b) * scaling).to(base.dtype)
              def dora_delta(self, x: Tensor, base: Tensor, weight: Tensor, bias: Tensor, a: Tensor, b: Tensor, magnitude: Tensor, scaling: float, dropout: float, train: bool) -> Tensor:
                xd = x.to(a.dtype)
                w = weight.to(a.dtype)
                lora_weight = torch.matmul(b, a)
                weight_norm = torch.linalg_vector_norm(w + scaling * lora_weight.detach(), 2, [1], False).detach()
                mag = (magnitude / weight_norm).view([1, -1])
                if train and dropout > 0.0:
                  xd = torch.dropout(xd, dropout, train)
                  base_result = torch.linear(xd, w)
                else:
                  base_result = base.to(a.dtype) - bias.to(a.dtype)
                lora_result = torch.linear(torch.linear(xd, a), b)
                result_dora = (mag - 1) * base_result + mag * lora_result * scaling
                return (base + result_dora).to(base.dtype)
              def row_norm(self, w: Tensor) -> Tensor:
                return torch.linalg_vector_norm(w.to(6), 2, [1], False)
              def grad_sq_sum_all(self, grads: List[Tensor]) -> Tensor:
                total = grads[0].to(7).pow(2).sum()
                for i in range(1, len(grads)):
                  total = total + grads[i].to(7).pow(2).sum()
                return total
              def clip_factor(self, sq_sum: Tensor, max_norm: float, loss_scale: float) -> Tuple[Tensor, Tensor]:
                norm = torch.sqrt(sq_sum) / loss_scale
                if max_norm <= 0.0:
                  return norm, torch.ones_like(norm) / loss_scale
                factor = torch.clamp(torch.full_like(norm, max_norm) / (norm + 1e-6), None, 1.0)
                return norm, factor / loss_scale
              def adamw_step(self, params: List[Tensor], grads: List[Tensor], m: List[Tensor], v: List[Tensor], grad_scale: Tensor, decay: float, b1: float, one_minus_b1: float, b2: float, one_minus_b2: float, bc2_sqrt: float, eps: float, step_size: float) -> Tensor:
                for i in range(len(params)):
                  g = grads[i] * grad_scale
                  p = params[i]
                  if decay != 1.0:
                    p.mul_(decay)
                  m[i].mul_(b1).add_(g * one_minus_b1)
                  v[i].mul_(b2).add_(g * g * one_minus_b2)
                  denom = v[i].sqrt() / bc2_sqrt + eps
                  p.sub_(m[i] / denom * step_size)
                return torch.empty([0])
              def stored_grads(self, params: List[Tensor]) -> List[Tensor]:
                grads: List[Tensor] = []
                for p in params:
                  grads.append(p.grad)
                return grads
              def stored_grad_sq_sum(self, params: List[Tensor]) -> Tensor:
                return self.grad_sq_sum_all(self.stored_grads(params))
              def adamw_step_stored(self, params: List[Tensor], m: List[Tensor], v: List[Tensor], grad_scale: Tensor, decay: float, b1: float, one_minus_b1: float, b2: float, one_minus_b2: float, bc2_sqrt: float, eps: float, step_size: float) -> Tensor:
                return self.adamw_step(params, self.stored_grads(params), m, v, grad_scale, decay, b1, one_minus_b1, b2, one_minus_b2, bc2_sqrt, eps, step_size)
              def zero_grads(self, params: List[Tensor]) -> Tensor:
                for p in params:
                  p.grad.zero_()
                return torch.empty([0])
              def rms_norm(self, x: Tensor, weight: Tensor, eps: float) -> Tensor:
                dtype = x.dtype
                h = x.to(6)
                variance = h.pow(2).mean(-1, True)
                h = h * torch.rsqrt(variance + eps)
                return weight * h.to(dtype)
              def rope_inv_freq(self, theta: float, dim: int) -> Tensor:
                exponent = torch.arange(0, dim, 2).to(6) / dim
                return torch.reciprocal(torch.pow(theta, exponent))
              def rope_cos_sin(self, inv_freq: Tensor, positions: Tensor, scaling: float, like: Tensor) -> Tuple[Tensor, Tensor]:
                inv = inv_freq.to(6).unsqueeze(0).unsqueeze(-1).expand(positions.size(0), -1, 1)
                pos = positions.unsqueeze(1).to(6)
                freqs = torch.matmul(inv, pos).transpose(1, 2)
                emb = torch.cat([freqs, freqs], -1)
                cos = emb.cos() * scaling
                sin = emb.sin() * scaling
                return cos.to(like.dtype), sin.to(like.dtype)
              def apply_rope(self, x: Tensor, cos: Tensor, sin: Tensor) -> Tensor:
                half = x.size(-1) // 2
                x1 = x.narrow(-1, 0, half)
                x2 = x.narrow(-1, half, half)
                rotated = torch.cat([torch.neg(x2), x1], -1)
                return x * cos.unsqueeze(1) + rotated * sin.unsqueeze(1)
              def attention(self, q: Tensor, k: Tensor, v: Tensor, causal: bool) -> Tensor:
                return torch.scaled_dot_product_attention(q, k, v, None, 0.0, causal, scale=None, enable_gqa=True)
              def attention_masked(self, q: Tensor, k: Tensor, v: Tensor, mask: Tensor) -> Tensor:
                return torch.scaled_dot_product_attention(q, k, v, mask, 0.0, False, scale=None, enable_gqa=True)
              def swiglu(self, gate: Tensor, up: Tensor) -> Tensor:
                return torch.silu(gate) * up
              def cast(self, x: Tensor, dtype: int) -> Tensor:
                return x.to(dtype)
              def cat(self, a: Tensor, b: Tensor, dim: int) -> Tensor:
                return torch.cat([a, b], dim)
              def cat_rows(self, parts: List[Tensor]) -> Tensor:
                return torch.cat(parts, 0)
              def select_rows(self, h: Tensor, rows: Tensor) -> Tensor:
                return h.reshape([-1, h.size(-1)]).index_select(0, rows)
              def logits(self, h: Tensor, weight: Tensor) -> Tensor:
                return torch.matmul(h, weight.t()).to(6)
              def nll_sum(self, h: Tensor, weight: Tensor, targets: Tensor) -> Tensor:
                logits = torch.matmul(h, weight.t()).to(6)
                lse = torch.logsumexp(logits, -1)
                nll = lse - logits.gather(1, targets.unsqueeze(1)).squeeze(1)
                return nll.to(7).sum()
              def nll_sum_and_grad(self, h: Tensor, weight: Tensor, targets: Tensor, grad_scale: float) -> Tuple[Tensor, Tensor]:
                logits = torch.matmul(h, weight.t()).to(6)
                lse = torch.logsumexp(logits, -1)
                picked = targets.unsqueeze(1)
                nll = lse - logits.gather(1, picked).squeeze(1)
                probs = torch.exp(logits - lse.unsqueeze(1))
                probs = probs.scatter_add(1, picked, torch.full_like(lse.unsqueeze(1), -1.0))
                grad_h = torch.matmul((probs * grad_scale).to(h.dtype), weight)
                return nll.to(7).sum(), grad_h
              def projection(self, x: Tensor, weights: List[Tensor], biases: List[Tensor], lora_a: List[Tensor], lora_b: List[Tensor], scalings: List[float], dropouts: List[float], train: bool, i: int) -> Tensor:
                w = weights[4 + i]
                bias = biases[i]
                if bias.numel() == 0:
                  base = torch.linear(x, w)
                else:
                  base = torch.linear(x, w, bias.to(w.dtype))
                a = lora_a[i]
                if a.numel() == 0:
                  return base
                xd = torch.dropout(x.to(a.dtype), dropouts[i], train)
                return (base + torch.linear(torch.linear(xd, a), lora_b[i]) * scalings[i]).to(base.dtype)
              def decoder_layer(self, x: Tensor, cos: Tensor, sin: Tensor, weights: List[Tensor], biases: List[Tensor], lora_a: List[Tensor], lora_b: List[Tensor], scalings: List[float], dropouts: List[float], shape: List[int], eps: float, train: bool) -> Tensor:
                return self.layer(x, cos, sin, None, weights, biases, lora_a, lora_b, scalings, dropouts, shape, eps, train)
              def decoder_layer_masked(self, x: Tensor, cos: Tensor, sin: Tensor, mask: Tensor, weights: List[Tensor], biases: List[Tensor], lora_a: List[Tensor], lora_b: List[Tensor], scalings: List[float], dropouts: List[float], shape: List[int], eps: float, train: bool) -> Tensor:
                return self.layer(x, cos, sin, mask, weights, biases, lora_a, lora_b, scalings, dropouts, shape, eps, train)
              def layer(self, x: Tensor, cos: Tensor, sin: Tensor, mask: Optional[Tensor], weights: List[Tensor], biases: List[Tensor], lora_a: List[Tensor], lora_b: List[Tensor], scalings: List[float], dropouts: List[float], shape: List[int], eps: float, train: bool) -> Tensor:
                batch = x.size(0)
                length = x.size(1)
                h = self.rms_norm(x, weights[0], eps)
                q = self.projection(h, weights, biases, lora_a, lora_b, scalings, dropouts, train, 0).reshape([batch, length, shape[0], shape[2]])
                k = self.projection(h, weights, biases, lora_a, lora_b, scalings, dropouts, train, 1).reshape([batch, length, shape[1], shape[2]])
                v = self.projection(h, weights, biases, lora_a, lora_b, scalings, dropouts, train, 2).reshape([batch, length, shape[1], shape[2]])
                if weights[2].numel() != 0:
                  q = self.rms_norm(q, weights[2], eps)
                  k = self.rms_norm(k, weights[3], eps)
                q = self.apply_rope(q.transpose(1, 2), cos, sin)
                k = self.apply_rope(k.transpose(1, 2), cos, sin)
                v = v.transpose(1, 2)
                if mask is None:
                  attended = self.attention(q, k, v, True)
                else:
                  attended = self.attention_masked(q, k, v, mask)
                merged = attended.transpose(1, 2).reshape([batch, length, shape[0] * shape[2]])
                after = x + self.projection(merged, weights, biases, lora_a, lora_b, scalings, dropouts, train, 3)
                h2 = self.rms_norm(after, weights[1], eps)
                gate = self.projection(h2, weights, biases, lora_a, lora_b, scalings, dropouts, train, 4)
                up = self.projection(h2, weights, biases, lora_a, lora_b, scalings, dropouts, train, 5)
                return after + self.projection(self.swiglu(gate, up), weights, biases, lora_a, lora_b, scalings, dropouts, train, 6)
              def dtype_code(self, x: Tensor) -> int:
                return x.dtype
            """;

    private final ScriptModule module;

    private Kernels(ScriptModule module) {
        this.module = module;
    }

    /**
     * Compiles the kernels for the device of {@code manager}. Calls follow the calling thread's
     * autograd mode ({@link dev.finetune.trainer.engine.Autograd}): on while a training forward runs, off otherwise.
     */
    public static Kernels load(NDManager manager) {
        return new Kernels(ScriptModule.load(manager, TorchScriptArchive.build("Kernels", SOURCE)));
    }

    private NDArray call(String method, Object... args) {
        return module.call(method, args);
    }

    private NDArray[] callTuple(String method, Object... args) {
        return module.callTuple(method, args);
    }

    /** Attaches results to the manager of the first input so scopes clean them up. */
    private static NDArray adopt(NDArray owner, NDArray result) {
        result.attach(owner.getManager());
        return result;
    }

    public NDArray embedding(NDArray weight, NDArray ids) {
        return adopt(ids, call("embedding", weight, ids));
    }

    /** {@code x W^T + b}; an fp32 (trainable) bias is cast to W's dtype inside the graph. */
    public NDArray linear(NDArray x, NDArray weight, NDArray bias) {
        return bias == null
                ? adopt(x, call("linear", x, weight))
                : adopt(x, call("linear_bias", x, weight, bias));
    }

    /** {@code (base + B(A(dropout(x))) * scaling)} computed in the LoRA weights' dtype, cast back to base's. */
    public NDArray loraDelta(NDArray x, NDArray base, NDArray a, NDArray b, double scaling, double dropout, boolean train) {
        return adopt(x, call("lora_delta", x, base, a, b, scaling, dropout, train));
    }

    /**
     * DoRA (PEFT {@code DoraLinearLayer}): {@code base + (m/||W + s BA||_row - 1) * Wx + m/||.|| * s B A x}, the
     * norm detached as in the paper (section 4.3); computed in the adapter's dtype, cast back to base's.
     * {@code bias} is the base layer's bias (a zero vector when it has none): PEFT removes it from the
     * scaled base term.
     */
    public NDArray doraDelta(NDArray x, NDArray base, NDArray weight, NDArray bias, NDArray a, NDArray b,
            NDArray magnitude, double scaling, double dropout, boolean train) {
        return adopt(x, call("dora_delta", x, base, weight, bias, a, b, magnitude, scaling, dropout, train));
    }

    /** fp32 L2 norm of each row of a matrix (DoRA's column-wise weight norm in nn.Linear layout). */
    public NDArray rowNorm(NDArray w) {
        return adopt(w, call("row_norm", w));
    }

    public NDArray rmsNorm(NDArray x, NDArray weight, double eps) {
        return adopt(x, call("rms_norm", x, weight, eps));
    }

    public NDArray ropeInvFreq(double theta, int dim) {
        return call("rope_inv_freq", theta, dim);
    }

    /** Returns {cos, sin}, shape [B, T, headDim], in the dtype of {@code like}. */
    public NDArray[] ropeCosSin(NDArray invFreq, NDArray positions, double attentionScaling, NDArray like) {
        NDArray[] out = callTuple("rope_cos_sin", invFreq, positions, attentionScaling, like);
        adopt(positions, out[0]);
        adopt(positions, out[1]);
        return out;
    }

    public NDArray applyRope(NDArray x, NDArray cos, NDArray sin) {
        return adopt(x, call("apply_rope", x, cos, sin));
    }

    /** Scaled-dot-product attention, q [B,Hq,T,D], k/v [B,Hkv,S,D] (grouped-query through enable_gqa). */
    public NDArray attention(NDArray q, NDArray k, NDArray v, boolean causal) {
        return adopt(q, call("attention", q, k, v, causal));
    }

    /** Attention with a boolean mask [B,1,T,S] (true = may attend). */
    public NDArray attention(NDArray q, NDArray k, NDArray v, NDArray allowed) {
        return adopt(q, call("attention_masked", q, k, v, allowed));
    }

    public NDArray swiglu(NDArray gate, NDArray up) {
        return adopt(gate, call("swiglu", gate, up));
    }

    /** dtype cast that keeps the autograd graph; use instead of DJL's toType (which aborts on bf16). */
    public NDArray cast(NDArray x, DataType type) {
        return adopt(x, call("cast", x, code(type)));
    }

    public NDArray cat(NDArray a, NDArray b, int dim) {
        return adopt(a, call("cat", a, b, dim));
    }

    /** Concatenates along dim 0 (any dtype). */
    public NDArray catRows(java.util.List<NDArray> parts) {
        return adopt(parts.getFirst(), call("cat_rows", parts));
    }

    public NDArray selectRows(NDArray h, NDArray rows) {
        return adopt(h, call("select_rows", h, rows));
    }

    /**
     * One pre-norm decoder layer in one call, for training and evaluation (no KV cache): the operations of
     * {@code DecoderLayer}'s kernel-by-kernel path in the same order (so the same results and the same dropout
     * masks), with the intermediate tensors kept inside libtorch instead of crossing into Java.
     *
     * @param mask boolean [B, 1, T, T] (true = may attend), or null for plain causal attention
     */
    public NDArray decoderLayer(NDArray x, NDArray cos, NDArray sin, NDArray mask, DecoderLayerArguments layer,
            boolean train) {
        return mask == null
                ? adopt(x, call("decoder_layer", x, cos, sin, layer.weights(), layer.biases(), layer.loraA(),
                        layer.loraB(), layer.scalings(), layer.dropouts(), layer.shape(), layer.eps(), train))
                : adopt(x, call("decoder_layer_masked", x, cos, sin, mask, layer.weights(), layer.biases(),
                        layer.loraA(), layer.loraB(), layer.scalings(), layer.dropouts(), layer.shape(), layer.eps(),
                        train));
    }

    /** fp32 logits of hidden states against the lm head. */
    public NDArray logits(NDArray h, NDArray weight) {
        return adopt(h, call("logits", h, weight));
    }

    /** Sum over rows of -log softmax(h W^T)[target], in fp64. */
    public NDArray nllSum(NDArray h, NDArray weight, NDArray targets) {
        return adopt(h, call("nll_sum", h, weight, targets));
    }

    /** {sum NLL (fp64 scalar), d(sum NLL * gradScale)/dh}; computed without building a graph. */
    public NDArray[] nllSumAndGrad(NDArray h, NDArray weight, NDArray targets, double gradScale) {
        NDArray[] out = callTuple("nll_sum_and_grad", h, weight, targets, gradScale);
        adopt(h, out[0]);
        adopt(h, out[1]);
        return out;
    }

    /**
     * Sum of squares in fp64 over all tensors (not empty), accumulated in list order in one call, left where it was
     * computed (an fp64 scalar): the global gradient norm's square.
     */
    public NDArray squaredSumOnDevice(java.util.List<NDArray> tensors) {
        return adopt(tensors.getFirst(), call("grad_sq_sum_all", tensors));
    }

    /**
     * {@code clip_grad_norm_} from a squared gradient norm, on the device: {norm / lossScale, the factor gradients
     * are multiplied by}, fp64 scalars; the factor is {@code min(maxNorm / (norm + 1e-6), 1) / lossScale}
     * ({@code 1 / lossScale} when {@code maxNorm <= 0}), the unscaling folded in.
     */
    public NDArray[] clipFactor(NDArray squaredSum, double maxNorm, double lossScale) {
        NDArray[] out = callTuple("clip_factor", squaredSum, maxNorm, lossScale);
        adopt(squaredSum, out[0]);
        adopt(squaredSum, out[1]);
        return out;
    }

    /**
     * One AdamW update of every tensor of {@code params} in place, in one call (see {@code AdamW} for the
     * formula): gradients times {@code gradScale} (an fp64 scalar tensor, applied in the gradients' dtype as a
     * number would be), weight decay {@code p *= decay} (skipped at 1), the moments {@code m}, {@code v}, then
     * {@code p -= stepSize m / (sqrt(v) / bc2Sqrt + eps)}. The same element-wise operations in the same order as
     * one tensor at a time.
     */
    public void adamwStep(java.util.List<NDArray> params, java.util.List<NDArray> grads, java.util.List<NDArray> m,
            java.util.List<NDArray> v, NDArray gradScale, double decay, double beta1, double beta2, double bc2Sqrt,
            double eps, double stepSize) {
        if (params.isEmpty()) {
            return;
        }
        call("adamw_step", params, grads, m, v, gradScale, decay, beta1, 1 - beta1, beta2, 1 - beta2, bc2Sqrt, eps,
                stepSize).close();
    }

    /**
     * {@link #squaredSumOnDevice} over the gradients libtorch stored on {@code params} ({@code p.grad}, not empty),
     * read inside the kernel: the gradients never cross into Java. Every parameter must have one (TorchScript
     * cannot tell a missing gradient from a tensor): see {@code Autograd.hasStoredGradient}.
     */
    public NDArray storedGradientSquaredSumOnDevice(java.util.List<NDArray> params) {
        return adopt(params.getFirst(), call("stored_grad_sq_sum", params));
    }

    /** {@link #adamwStep} with each parameter's stored gradient ({@code p.grad}), which every parameter must have. */
    public void adamwStepOnStoredGradients(java.util.List<NDArray> params, java.util.List<NDArray> m,
            java.util.List<NDArray> v, NDArray gradScale, double decay, double beta1, double beta2, double bc2Sqrt,
            double eps, double stepSize) {
        if (params.isEmpty()) {
            return;
        }
        call("adamw_step_stored", params, m, v, gradScale, decay, beta1, 1 - beta1, beta2, 1 - beta2, bc2Sqrt, eps,
                stepSize).close();
    }

    /** Zeroes the stored gradient of every parameter in place, in one call; every parameter must have one. */
    public void zeroGradients(java.util.List<NDArray> params) {
        if (!params.isEmpty()) {
            call("zero_grads", params).close();
        }
    }

    /**
     * The tensor's real dtype. DJL 0.35.1 reports bf16 tensors as {@code UNKNOWN}, so ask libtorch.
     */
    public DataType dtypeOf(NDArray x) {
        int code = (int) module.callLong("dtype_code", x);
        return switch (code) {
            case FLOAT32 -> DataType.FLOAT32;
            case FLOAT16 -> DataType.FLOAT16;
            case BFLOAT16 -> DataType.BFLOAT16;
            case INT64 -> DataType.INT64;
            case UINT8 -> DataType.UINT8;
            case BOOL -> DataType.BOOLEAN;
            default -> DataType.UNKNOWN;
        };
    }

    public static int code(DataType type) {
        return switch (type) {
            case FLOAT32 -> FLOAT32;
            case FLOAT16 -> FLOAT16;
            case BFLOAT16 -> BFLOAT16;
            case INT64 -> INT64;
            case UINT8 -> UINT8;
            case BOOLEAN -> BOOL;
            default -> throw new IllegalArgumentException("no kernel cast to " + type);
        };
    }

    @Override
    public void close() {
        module.close();
    }
}
