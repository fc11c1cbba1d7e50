package progres

import (
	"bytes"
	"context"
	"encoding/json"
	"iter"
	"strconv"
)

// NoDataAvailable is what PING puts in Data instead of an empty array.
const NoDataAvailable = "No Data Available"

// QueryParameter is one entry of a fetch's QueryParameters.
type QueryParameter struct {
	ParameterName string `json:"ParameterName"`
	Value         string `json:"Value"`
}

// RecordIDs is the {record_ids} parameter of the detail fetches: one GUID.
func RecordIDs(id string) QueryParameter {
	return QueryParameter{ParameterName: "{record_ids}", Value: id}
}

// FetchRequest asks for one page of a shipping process's query.
type FetchRequest struct {
	ShippingProcessID string
	Parameters        []QueryParameter
	// PagingCookie and PageNumber come from the previous page's
	// PagingSummary; empty and 0 for the first page. How PING takes them
	// back is not public: the client echoes both in the body
	// (unconfirmed; see docs/systems/progres.md).
	PagingCookie string
	PageNumber   int
}

// fetchBody is the wire form of a fetch.
type fetchBody struct {
	ShippingProcessID string           `json:"ShippingProcessId"`
	PartnerID         string           `json:"PartnerId"`
	InteropID         string           `json:"InteropID"`
	APIVersion        string           `json:"APIVersion"`
	QueryParameters   []QueryParameter `json:"QueryParameters"`
	PagingCookie      string           `json:"PagingCookie,omitempty"`
	PageNumber        int              `json:"PageNumber,omitempty"`
}

// Row is one fetched row: column name → value, numbers as json.Number.
// Column names are the aliases of the shipping process's query.
type Row map[string]any

// String returns the column's string value ("" when absent or not a string).
func (r Row) String(col string) string {
	s, _ := r[col].(string)
	return s
}

// PagingSummary is PING's paging block.
type PagingSummary struct {
	PagingCookie           string
	PageNumber             int
	IsMoreRecordsAvailable bool
}

// Page is one decoded fetch answer.
type Page struct {
	Rows []Row
	// RecordCount is PING's RecordCount; -1 when it was null.
	RecordCount   int
	TransactionID string // SPHTransactionId
	Paging        PagingSummary
	// ErrorMessage is the envelope's ErrorMessage; FetchPage turns a
	// non-empty one into a *GatewayError.
	ErrorMessage string
}

// DecodeFetchPage decodes a fetch answer: Data is an array of objects or
// the string "No Data Available" (no rows); anything else is an error
// naming the part refused, never quoting it.
func DecodeFetchPage(body []byte) (*Page, error) {
	var env struct {
		Data          json.RawMessage `json:"Data"`
		RecordCount   json.RawMessage `json:"RecordCount"`
		ErrorMessage  *string         `json:"ErrorMessage"`
		TransactionID *string         `json:"SPHTransactionId"`
		PagingSummary *struct {
			PagingCookie           *string      `json:"PagingCookie"`
			PageNumber             *json.Number `json:"PageNumber"`
			IsMoreRecordsAvailable *bool        `json:"IsMoreRecordsAvailable"`
		} `json:"PagingSummary"`
	}
	if err := strictUnmarshal(body, &env); err != nil {
		return nil, &DecodeError{Err: err}
	}
	p := &Page{RecordCount: -1}
	if env.ErrorMessage != nil {
		p.ErrorMessage = *env.ErrorMessage
	}
	if env.TransactionID != nil {
		p.TransactionID = *env.TransactionID
	}
	if rc := bytes.TrimSpace(env.RecordCount); len(rc) > 0 && string(rc) != "null" {
		n, err := strconv.Atoi(string(rc))
		if err != nil || n < 0 {
			return nil, &DecodeError{Path: "RecordCount", Err: shapeErr("not a count")}
		}
		p.RecordCount = n
	}
	if ps := env.PagingSummary; ps != nil {
		if ps.PagingCookie != nil {
			p.Paging.PagingCookie = *ps.PagingCookie
		}
		if ps.PageNumber != nil {
			n, err := strconv.Atoi(ps.PageNumber.String())
			if err != nil || n < 0 {
				return nil, &DecodeError{Path: "PagingSummary.PageNumber", Err: shapeErr("not a page number")}
			}
			p.Paging.PageNumber = n
		}
		if ps.IsMoreRecordsAvailable != nil {
			p.Paging.IsMoreRecordsAvailable = *ps.IsMoreRecordsAvailable
		}
	}
	data := bytes.TrimSpace(env.Data)
	switch {
	case len(data) == 0 || string(data) == "null":
	case data[0] == '"':
		var s string
		if json.Unmarshal(data, &s) != nil || s != NoDataAvailable {
			return nil, &DecodeError{Path: "Data", Err: shapeErr(`a string other than "No Data Available"`)}
		}
	case data[0] == '[':
		var rows []any
		if err := strictUnmarshal(data, &rows); err != nil {
			return nil, &DecodeError{Path: "Data", Err: err}
		}
		p.Rows = make([]Row, len(rows))
		for i, r := range rows {
			m, ok := r.(map[string]any)
			if !ok {
				return nil, &DecodeError{Path: "Data[" + itoa(i) + "]", Err: shapeErr("not an object")}
			}
			p.Rows[i] = m
		}
	default:
		return nil, &DecodeError{Path: "Data", Err: shapeErr("neither an array nor a string")}
	}
	if p.Paging.IsMoreRecordsAvailable && p.Paging.PagingCookie == "" {
		return nil, &DecodeError{Path: "PagingSummary.PagingCookie", Err: shapeErr("more records are available but there is no cookie")}
	}
	return p, nil
}

// FetchPage fetches one page.
func (c *PINGClient) FetchPage(ctx context.Context, req FetchRequest) (*Page, error) {
	if !pathSegment(req.ShippingProcessID) {
		return nil, newFieldError("ShippingProcessId", "is required: letters, digits, '-' or '_'")
	}
	v := &ValidationError{}
	for i, p := range req.Parameters {
		requireText(v, "QueryParameters["+itoa(i)+"].ParameterName", p.ParameterName)
		optionalText(v, "QueryParameters["+itoa(i)+"].Value", p.Value)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	params := req.Parameters
	if params == nil {
		params = []QueryParameter{}
	}
	body := fetchBody{
		ShippingProcessID: req.ShippingProcessID, PartnerID: c.partnerID, InteropID: c.interopID, APIVersion: "V3",
		QueryParameters: params, PagingCookie: req.PagingCookie, PageNumber: req.PageNumber,
	}
	out, err := c.post(ctx, pathFetch, body, true)
	if err != nil {
		return nil, err
	}
	p, err := DecodeFetchPage(out)
	if err != nil {
		return nil, c.decodeError(pathFetch, err)
	}
	if p.ErrorMessage != "" {
		return nil, &GatewayError{ShippingProcessID: req.ShippingProcessID, Message: p.ErrorMessage}
	}
	return p, nil
}

// Fetch iterates over every row of a shipping process's query, fetching
// pages lazily: the next page is asked for only when the rows of this one
// are consumed and PING said more records are available, echoing its
// paging cookie. Memory holds one page. It stops at break and yields an
// error once, as the last item; a gateway that keeps saying "more" beyond
// the page limit (WithMaxPages) is an error too.
func (c *PINGClient) Fetch(ctx context.Context, shippingProcessID string, params ...QueryParameter) iter.Seq2[Row, error] {
	return func(yield func(Row, error) bool) {
		req := FetchRequest{ShippingProcessID: shippingProcessID, Parameters: params}
		for pages := 1; ; pages++ {
			p, err := c.FetchPage(ctx, req)
			if err != nil {
				yield(nil, err)
				return
			}
			for i, r := range p.Rows {
				p.Rows[i] = nil
				if !yield(r, nil) {
					return
				}
			}
			if !p.Paging.IsMoreRecordsAvailable {
				return
			}
			if pages >= c.maxPages {
				yield(nil, c.decodeError(pathFetch, shapeErr("more pages than the page limit")))
				return
			}
			req.PagingCookie = p.Paging.PagingCookie
			req.PageNumber = p.Paging.PageNumber + 1
		}
	}
}
