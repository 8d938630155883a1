"""Every GraphQL document Crossdock sends to the Shopify Admin API for the catalog, stock and bulk export.

One module, so the simulator's tests can run exactly these documents, and a reviewer sees the whole API surface
in one place. Page sizes are chosen so a query's requested cost stays under Shopify's single-query limit (1,000).
"""

from __future__ import annotations

from typing import Final

PAGE_SIZE: Final = 250  # Shopify's maximum for connections and array inputs

# The shop's primary location (no id → primary); used when `fulfillment.shopify_location` is not set.
PRIMARY_LOCATION: Final = """
query PrimaryLocation {
  location { id name }
}
"""

# Stock: every inventory item whose SKU is one of the wanted ones (`sku:"A" OR sku:"B"`), with its level at one
# location. Inventory items are 1:1 with variants, so this also finds every variant sharing a SKU.
INVENTORY_BY_SKU: Final = """
query InventoryBySku($query: String!, $first: Int!, $after: String, $locationId: ID!) {
  inventoryItems(first: $first, after: $after, query: $query) {
    nodes {
      id
      sku
      tracked
      inventoryLevel(locationId: $locationId) {
        id
        quantities(names: ["available", "on_hand"]) { name quantity }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""

SET_QUANTITIES: Final = """
mutation SetStock($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id }
    userErrors { field message code }
  }
}
"""

# Products (master = rackbeat): find the variant carrying a SKU before writing anything.
VARIANTS_BY_SKU: Final = """
query VariantsBySku($query: String!) {
  productVariants(first: 10, query: $query) {
    nodes {
      id
      sku
      product { id title status variantsCount { count } }
      inventoryItem { id }
    }
  }
}
"""

CREATE_PRODUCT: Final = """
mutation CreateProduct($input: ProductSetInput!) {
  productSet(input: $input, synchronous: true) {
    product {
      id
      variants(first: 1) { nodes { id sku inventoryItem { id } } }
    }
    userErrors { field message code }
  }
}
"""

UPDATE_PRODUCT: Final = """
mutation UpdateProduct($product: ProductUpdateInput!) {
  productUpdate(product: $product) {
    product { id }
    userErrors { field message }
  }
}
"""

UPDATE_VARIANTS: Final = """
mutation UpdateVariants($productId: ID!, $variants: [ProductVariantsBulkInput!]!) {
  productVariantsBulkUpdate(productId: $productId, variants: $variants) {
    productVariants { id }
    userErrors { field message code }
  }
}
"""

# Initial sync: the whole catalog as one bulk export. The variant is the root object; its inventory levels come
# as child lines carrying `__parentId`.
CATALOG_EXPORT: Final = """
{
  productVariants {
    edges {
      node {
        id
        sku
        title
        price
        barcode
        product { id title descriptionHtml productType status }
        inventoryItem {
          id
          tracked
          measurement { weight { unit value } }
          inventoryLevels {
            edges {
              node {
                id
                location { id }
                quantities(names: ["on_hand"]) { name quantity }
              }
            }
          }
        }
      }
    }
  }
}
"""

RUN_BULK_QUERY: Final = """
mutation RunBulkQuery($query: String!) {
  bulkOperationRunQuery(query: $query) {
    bulkOperation { id status }
    userErrors { field message code }
  }
}
"""

BULK_OPERATION: Final = """
query BulkOperation($id: ID!) {
  bulkOperation(id: $id) {
    id
    status
    errorCode
    objectCount
    rootObjectCount
    url
    partialDataUrl
  }
}
"""

WEBHOOK_SUBSCRIPTIONS: Final = """
query WebhookSubscriptions($after: String) {
  webhookSubscriptions(first: 250, after: $after) {
    nodes { id topic uri }
    pageInfo { hasNextPage endCursor }
  }
}
"""

CREATE_WEBHOOK_SUBSCRIPTION: Final = """
mutation CreateWebhookSubscription($topic: WebhookSubscriptionTopic!, $uri: String!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: {uri: $uri}) {
    webhookSubscription { id topic uri }
    userErrors { field message }
  }
}
"""

DELETE_WEBHOOK_SUBSCRIPTION: Final = """
mutation DeleteWebhookSubscription($id: ID!) {
  webhookSubscriptionDelete(id: $id) {
    deletedWebhookSubscriptionId
    userErrors { field message }
  }
}
"""
