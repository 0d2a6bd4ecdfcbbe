#!/usr/bin/env bash
# fpaudit run evaluates samples in batches, each layer's GEMM over the batch (issue 16): every
# output element is summed in the same order whatever the batch, so the outputs of --batch 1
# (one sample at a time) and of larger batches, one that does not divide the sample count
# included, must be the same bytes; on the shipped models and the zoo, in several chains, and
# with 2 threads.
#   run_batch_test.sh FPAUDIT_BINARY DATA_DIR
set -u
fpaudit=$1
data=$2
failures=0
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
in_scratch_dir

# same_for_batches NAME CHAIN SAMPLES BATCHES ARGS...: --batch 1 against each of BATCHES (and
# the last of them on 2 threads), byte for byte.
same_for_batches() {
  local name=$1 chain=$2 samples=$3 batches=$4
  shift 4
  "$fpaudit" run "$@" --chain "$chain" --samples "$samples" --batch 1 --output one.npy >/dev/null 2>err.txt ||
    { fail "$name $chain --batch 1: $(cat err.txt)"; return; }
  local b t
  for b in $batches; do
    for t in 1 2; do
      [[ $t -eq 2 && $b != "${batches##* }" ]] && continue
      "$fpaudit" run "$@" --chain "$chain" --samples "$samples" --batch "$b" --threads "$t" --output many.npy >/dev/null 2>err.txt ||
        { fail "$name $chain --batch $b: $(cat err.txt)"; continue; }
      cmp -s one.npy many.npy || fail "$name $chain: --batch $b --threads $t differs from --batch 1"
    done
  done
  echo "$name $chain: batches $batches equal to one at a time"
}

images=$data/test_images.npy
for chain in fp32 fp16 bf16-acc32 ref; do
  same_for_batches cnn "$chain" 10 "3 4 16" "$data/cnn.onnx" --input "$images"
  same_for_batches mlp "$chain" 10 "3 16" "$data/mlp.onnx" --input "$images"
done
for chain in fp32 fp16 fp16+fp32:Softmax,MatMul; do
  same_for_batches vit "$chain" 5 "2 5" "$data/vit.onnx" --input "$images"
done
zoo=$data/zoo
for model in resnet18 mobilenetv3_small efficientnet_b0 squeezenet unet gpt gru bert_embeds; do
  for chain in fp32 fp16-acc32; do
    same_for_batches "$model" "$chain" 4 "3 4" "$zoo/$model.onnx" --input "$zoo/$model-input.npy"
  done
done
# 40 U-Net inputs (37 values repeating, so no two samples are alike): a batch of 40 images puts
# more than the 32 MB cap of im2col columns into its widest Conv GEMMs (dec1.0: 144 x 1024 per
# image, 28 images per GEMM), which then span the batch in several GEMMs.
npy unet40.npy f4 40,1,32,32 $(seq -f "%.3f" -1.8 0.1 1.8)
same_for_batches "unet (40 images)" fp32 40 "40" "$zoo/unet.onnx" --input unet40.npy
same_for_batches bert fp32 4 "3" "$zoo/bert.onnx" --input "input_ids=$zoo/bert-input_ids.npy" \
  --input "attention_mask=$zoo/bert-attention_mask.npy"
finish "batched fpaudit run equals one sample at a time"
