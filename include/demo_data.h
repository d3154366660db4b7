/* demo_data.h -- a small synthetic world the alignment lessons can reason about
 * (`align --demo DIR`, lessons 10-12 and 14).
 *
 * 96 stimuli in 4 categories (24 each) with a latent meaning z (category centre + item
 * detail).  Written to DIR:
 *   brain.npy           8 trials x 96 stimuli x 24 units: a noisy recording of tanh(z Wb)
 *   model/layer0..5.npy 96 x 32 each: a_l leaky-relu(z W_l) + (1 - a_l) leaky-relu(e W'_l),
 *                       e = item identity that ignores meaning; a_l peaks at layer 3
 *   rotated.npy         the brain's trial mean, rotated, scaled x5 and shifted
 *   stretched.npy       the brain's trial mean times a general (non-orthogonal) matrix
 *   noise.npy           96 x 24 unrelated noise;  noise_wide.npy: 96 x 200 (CCA's trap)
 *   loc_sentences.npy, loc_nonwords.npy   80 x 64 each; units 5, 12, 20, 33, 41, 58
 *                       respond more (in magnitude) to sentences: for `localize`
 *   labels.txt          one name per stimulus ("animal1" ...), for --labels
 * The same seed gives the same files.
 */
#ifndef TB_DEMO_DATA_H
#define TB_DEMO_DATA_H

#include "tb.h"

int demo_write(const char *dir, uint64_t seed, char *err);

#endif
