// Package onnx reads and writes the subset of the ONNX model format
// (onnx.proto, IR version 8, default-domain opset 13) that a convolutional
// feature extractor needs: a model with one graph of nodes, initializer tensors
// with their data inline (raw_data, or the typed repeated fields on read),
// value infos with tensor types and shapes, and scalar, list and tensor
// attributes.
//
// The protobuf is written and parsed field by field with
// google.golang.org/protobuf/encoding/protowire, without generated code, so
// the bytes written for a given model are fixed by this package alone: the
// same Model marshals to the same bytes on every architecture, and the model's
// SHA-256, which every envelope carries, is reproducible.
//
// Field numbers used (from onnx.proto):
//
//	ModelProto:        ir_version 1, producer_name 2, producer_version 3, domain 4,
//	                   model_version 5, doc_string 6, graph 7, opset_import 8,
//	                   metadata_props 14
//	OperatorSetIdProto: domain 1, version 2
//	GraphProto:        node 1, name 2, initializer 5, doc_string 10, input 11,
//	                   output 12, value_info 13
//	NodeProto:         input 1, output 2, name 3, op_type 4, attribute 5,
//	                   doc_string 6, domain 7
//	AttributeProto:    name 1, f 2, i 3, s 4, t 5, g 6, floats 7, ints 8,
//	                   strings 9, type 20
//	TensorProto:       dims 1, data_type 2, float_data 4, int32_data 5,
//	                   int64_data 7, name 8, raw_data 9, double_data 10,
//	                   external_data 13, data_location 14
//	ValueInfoProto:    name 1, type 2;  TypeProto: tensor_type 1
//	TypeProto.Tensor:  elem_type 1, shape 2;  TensorShapeProto: dim 1
//	Dimension:         dim_value 1, dim_param 2
//	StringStringEntryProto: key 1, value 2
//
// Reading is bounded: the whole model must fit in memory (no external data),
// every length is checked against what is left of the input before it is
// used, and counts of nodes, tensors, dimensions and elements are capped by
// Limits, so hostile bytes give an error, never a panic or a huge allocation.
package onnx
