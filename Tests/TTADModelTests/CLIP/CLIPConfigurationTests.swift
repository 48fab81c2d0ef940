import Foundation
import XCTest
@testable import TTADModel

final class CLIPConfigurationTests: TemporaryDirectoryTestCase {
    /// The shape of openai/clip-vit-base-patch32's published config.json (transformers 4.x
    /// export): many generation keys, nulls, nested dicts, bos 0 / eos 2 legacy ids, quick_gelu,
    /// and a stale `projection_dim` inside each tower config that the top-level one overrides.
    func testOpenAIStyleConfigLoadsAsViTB32() throws {
        let json = #"""
        {"_name_or_path": "openai/clip-vit-base-patch32", "architectures": ["CLIPModel"], "initializer_factor": 1.0,
         "logit_scale_init_value": 2.6592, "model_type": "clip", "projection_dim": 512,
         "text_config": {"_name_or_path": "", "add_cross_attention": false, "architectures": null, "attention_dropout": 0.0,
           "bad_words_ids": null, "bos_token_id": 0, "chunk_size_feed_forward": 0, "dropout": 0.0, "eos_token_id": 2,
           "hidden_act": "quick_gelu", "hidden_size": 512, "id2label": {"0": "LABEL_0", "1": "LABEL_1"},
           "initializer_range": 0.02, "intermediate_size": 2048, "layer_norm_eps": 1e-05, "max_length": 20,
           "max_position_embeddings": 77, "model_type": "clip_text_model", "num_attention_heads": 8,
           "num_hidden_layers": 12, "pad_token_id": 1, "projection_dim": 512, "vocab_size": 49408},
         "text_config_dict": null,
         "vision_config": {"attention_dropout": 0.0, "dropout": 0.0, "hidden_act": "quick_gelu", "hidden_size": 768,
           "image_size": 224, "initializer_factor": 1.0, "intermediate_size": 3072, "layer_norm_eps": 1e-05,
           "model_type": "clip_vision_model", "num_attention_heads": 12, "num_channels": 3, "num_hidden_layers": 12,
           "patch_size": 32, "projection_dim": 512},
         "vision_config_dict": null, "torch_dtype": "float32", "transformers_version": null}
        """#
        let config = try CLIPConfiguration(contentsOf: write(json, to: "config.json"))
        var expected = CLIPConfiguration.vitB(patch: 32)
        expected.bosTokenID = 0
        XCTAssertEqual(config, expected)
        XCTAssertEqual(config.visionSequenceLength, 50)
    }

    func testAbsentKeysTakeTheLibraryDefaults() throws {
        let config = try CLIPConfiguration(contentsOf: write(#"{"model_type": "clip"}"#, to: "config.json"))
        XCTAssertEqual(config.vision.hiddenSize, 768)
        XCTAssertEqual(config.eosTokenID, 49407)
        XCTAssertEqual(config.text.activation, .quickGELU)
    }

    func testPoolingRuleFollowsTheEOSTokenID() {
        // Legacy id 2: argmax of the ids (HF); otherwise the first occurrence of the id.
        XCTAssertEqual(CLIPTextEncoder.poolingIndex([49406, 320, 49407, 49407], eosTokenID: 2), 2)
        XCTAssertEqual(CLIPTextEncoder.poolingIndex([5, 9, 7, 9], eosTokenID: 7), 2)
        XCTAssertEqual(CLIPTextEncoder.poolingIndex([5, 9, 8], eosTokenID: 7), 0)
    }
}
